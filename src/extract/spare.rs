//! The page again, for a second try of an extractor (Readability takes the
//! parsed page it works on, and changes it).
//!
//! A small page is copied before the first try: copying a DOM costs a
//! twentieth of parsing the page again (measured: 0.16 against 2.5 ms a
//! WCXB page). A large one is parsed again if a second try comes: a copy
//! would double the memory a page holds, and the largest pages set the
//! peak.

use dom_query::Document;

use super::furniture;

/// Pages of markup up to this size are copied.
const COPY_UP_TO: usize = 256 * 1024;

/// The page, for a second try.
pub struct Spare<'a> {
    copy: Option<Document>,
    html: &'a str,
}

impl<'a> Spare<'a> {
    /// A spare of `doc`, parsed from `html` (furniture already taken out).
    pub fn new(doc: &Document, html: &'a str) -> Spare<'a> {
        let copy = (html.len() <= COPY_UP_TO).then(|| doc.clone());
        Spare { copy, html }
    }

    /// A fresh copy of the page, as it was.
    pub fn get(&self) -> Document {
        match &self.copy {
            Some(copy) => copy.clone(),
            None => self.parse(),
        }
    }

    /// The page, as it was, for the last try.
    pub fn take(self) -> Document {
        match self.copy {
            Some(copy) => copy,
            None => self.parse(),
        }
    }

    fn parse(&self) -> Document {
        let doc = Document::from(self.html);
        furniture::remove(&doc, self.html);
        doc
    }
}
