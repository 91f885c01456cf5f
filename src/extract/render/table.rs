//! Tables: their rows and cells, as a Markdown pipe table or as lines of
//! text. A table holding another is a layout table, written as blocks.

use dom_query::NodeRef;

/// One row: its cells' content, and whether it is a header row.
pub struct Row {
    pub cells: Vec<String>,
    pub header: bool,
}

/// Whether `table` lays out the page rather than holds data: a table
/// inside it.
pub fn is_layout(table: &NodeRef) -> bool {
    table
        .descendants_it()
        .any(|d| d.qual_name_ref().is_some_and(|q| &q.local == "table"))
}

/// The rows of `table` (not of tables inside it), each cell rendered by
/// `cell`; rows without content left out.
pub fn rows(table: &NodeRef, mut cell: impl FnMut(&NodeRef) -> String) -> Vec<Row> {
    let mut rows = Vec::new();
    collect(table, false, &mut rows, &mut cell);
    rows.retain(|r| r.cells.iter().any(|c| !c.is_empty()));
    rows
}

fn collect(
    node: &NodeRef,
    in_head: bool,
    rows: &mut Vec<Row>,
    cell: &mut impl FnMut(&NodeRef) -> String,
) {
    for child in node.children_it(false) {
        let Some(tag) = child.qual_name_ref().map(|q| q.local.clone()) else {
            continue;
        };
        match &*tag {
            "thead" => collect(&child, true, rows, cell),
            "tbody" | "tfoot" => collect(&child, false, rows, cell),
            "tr" => {
                let cells: Vec<NodeRef> = child
                    .children_it(false)
                    .filter(|c| c.has_name("td") || c.has_name("th"))
                    .collect();
                let all_th = !cells.is_empty() && cells.iter().all(|c| c.has_name("th"));
                rows.push(Row {
                    cells: cells.iter().map(&mut *cell).collect(),
                    header: in_head || all_th,
                });
            }
            _ => {}
        }
    }
}

/// A pipe table: the first row as the header when it is one, else an
/// empty header, so that the table stays a table.
pub fn markdown(rows: &[Row]) -> String {
    let width = rows.iter().map(|r| r.cells.len()).max().unwrap_or(0);
    if width == 0 {
        return String::new();
    }
    let line = |cells: &[String]| {
        let mut out = String::from("|");
        for i in 0..width {
            let cell = cells.get(i).map_or("", String::as_str);
            out.push(' ');
            out.push_str(cell);
            out.push_str(if cell.is_empty() { "|" } else { " |" });
        }
        out
    };
    let (head, body) = match rows.split_first() {
        Some((first, rest)) if first.header => (first.cells.clone(), rest),
        _ => (Vec::new(), rows),
    };
    let mut out = line(&head);
    out.push('\n');
    out.push('|');
    out.push_str(&" --- |".repeat(width));
    for row in body {
        out.push('\n');
        out.push_str(&line(&row.cells));
    }
    out
}

/// A line per row, cells separated by a space.
pub fn text(rows: &[Row]) -> String {
    rows.iter()
        .map(|r| {
            r.cells
                .iter()
                .filter(|c| !c.is_empty())
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}
