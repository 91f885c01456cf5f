#!/usr/bin/env python3
"""Generates a static site for the crawl benchmark (bench/crawl.sh) and the
set of pages a crawl of it must fetch.

    python3 bench/crawl_site.py DIR --hosts 20 --pages 100000 --port P

Host h (served as 127.0.0.{h+1}:P from DIR/h{h}) has pages p0..p{n-1}
(n = pages / hosts), each about 2 KiB with 10 links:

    p{i+1}, p{2i+1}, p{2i+2}, p{7i mod n}   same host: every page reachable
    p{i+1}#sec                              a fragment (same page)
    p{2i+1}                                 a duplicate
    http://127.0.0.{h'}:P/p{i}              cross-host (another host of the site)
    http://external.invalid/x{i}            external: never in scope
    /nf/{i}.html  rel=nofollow              never followed
    /private/{i}.html                       disallowed by robots.txt

plus robots.txt (Disallow: /private/, Sitemap: /sitemap-index.xml), a
sitemap index and sitemaps of at most 50 000 URLs listing every page.

Seeds (DIR/seeds.txt) are every host's p0; DIR/expected.txt is what a crawl
with --scope host and --depth D must fetch (breadth-first from each seed
over same-host links, nofollow and disallowed left out): every page for
the default depth, which reaches them all.
"""
import argparse
import os
from collections import deque


def links(h, i, n, hosts, port):
    same = [(i + 1) % n, (2 * i + 1) % n, (2 * i + 2) % n, (7 * i) % n]
    other = (h + 1) % hosts
    out = [f"/p{j}.html" for j in same]
    out.append(f"/p{(i + 1) % n}.html#sec")
    out.append(f"/p{(2 * i + 1) % n}.html")
    out.append(f"http://127.0.0.{other + 1}:{port}/p{i}.html")
    out.append(f"http://external.invalid/x{i}.html")
    return same, out


def page(h, i, n, hosts, port):
    _, out = links(h, i, n, hosts, port)
    anchors = "".join(f'<li><a href="{u}">link {k}</a></li>' for k, u in enumerate(out))
    anchors += f'<li><a rel="nofollow" href="/nf/{i}.html">nofollow</a></li>'
    anchors += f'<li><a href="/private/{i}.html">private</a></li>'
    filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 24
    return (
        f"<!doctype html><html><head><title>Host {h} page {i}</title></head>"
        f"<body><h1>Page {i}</h1><p>{filler}</p><ul>{anchors}</ul></body></html>"
    )


def expected(h, n, depth):
    dist = {0: 0}
    queue = deque([0])
    while queue:
        i = queue.popleft()
        if dist[i] == depth:
            continue
        same, _ = links(h, i, n, 1, 0)
        for j in same:
            if j not in dist:
                dist[j] = dist[i] + 1
                queue.append(j)
    return dist


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--hosts", type=int, default=20)
    ap.add_argument("--pages", type=int, default=100_000)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--depth", type=int, default=1000)
    a = ap.parse_args()
    n = a.pages // a.hosts
    with open(os.path.join(a.dir, "expected.txt"), "w") as exp, open(
        os.path.join(a.dir, "seeds.txt"), "w"
    ) as seeds, open(os.path.join(a.dir, "roots.txt"), "w") as roots:
        for h in range(a.hosts):
            root = os.path.join(a.dir, f"h{h}")
            os.makedirs(os.path.join(root, "nf"), exist_ok=True)
            os.makedirs(os.path.join(root, "private"), exist_ok=True)
            base = f"http://127.0.0.{h + 1}:{a.port}"
            for i in range(n):
                with open(os.path.join(root, f"p{i}.html"), "w") as f:
                    f.write(page(h, i, n, a.hosts, a.port))
            with open(os.path.join(root, "robots.txt"), "w") as f:
                f.write(f"User-agent: *\nDisallow: /private/\nSitemap: {base}/sitemap-index.xml\n")
            maps = []
            for k, start in enumerate(range(0, n, 50_000)):
                name = f"sitemap-{k}.xml"
                maps.append(name)
                with open(os.path.join(root, name), "w") as f:
                    f.write('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">')
                    for i in range(start, min(n, start + 50_000)):
                        f.write(f"<url><loc>{base}/p{i}.html</loc><lastmod>2026-01-{1 + i % 28:02d}</lastmod></url>")
                    f.write("</urlset>")
            with open(os.path.join(root, "sitemap-index.xml"), "w") as f:
                f.write('<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">')
                for name in maps:
                    f.write(f"<sitemap><loc>{base}/{name}</loc></sitemap>")
                f.write("</sitemapindex>")
            seeds.write(f"{base}/p0.html\n")
            roots.write(f"{base}/\n")
            for i in sorted(expected(h, n, a.depth)):
                exp.write(f"{base}/p{i}.html\n")


if __name__ == "__main__":
    main()
