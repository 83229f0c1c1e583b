"""Check every internal link of the built HTML site (no network).

For each ``href``/``src`` in ``docs/_build/html/**/*.html`` that points inside
the site (relative URL, no scheme), the target file must exist and, when the
link has a ``#fragment``, the target page must hold an element with that id.
External links (http, https, mailto, data) are not fetched; they are counted
and listed with ``--list-external``.

Usage::

    python docs/check_links.py [docs/_build/html] [--list-external]

Exit status 1 when a link is broken, with one line per broken link.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name"):
                self.ids.add(value)
            elif name in ("href", "src") and tag in ("a", "img", "link", "script", "iframe", "source"):
                self.links.append(value)


def _parse(path: Path, cache: dict) -> _Collector:
    if path not in cache:
        collector = _Collector()
        collector.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = collector
    return cache[path]


def check(site: Path) -> tuple[list[str], list[str]]:
    broken, external, cache = [], [], {}
    for page in sorted(site.rglob("*.html")):
        for link in _parse(page, cache).links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("//"):
                if parts.scheme not in ("data", "javascript"):
                    external.append(f"{page.relative_to(site)}: {link}")
                continue
            target = page if not parts.path else (page.parent / unquote(parts.path))
            target = target.resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site)}: {link} (no file {target})")
                continue
            if parts.fragment and target.suffix == ".html":
                ids = _parse(target, cache).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{page.relative_to(site)}: {link} (no id "
                                  f"'{parts.fragment}' in {target.relative_to(site.resolve())})")
    return broken, external


def main(argv=None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    list_external = "--list-external" in args
    args = [a for a in args if a != "--list-external"]
    site = Path(args[0]) if args else Path(__file__).resolve().parent / "_build" / "html"
    if not (site / "index.html").exists():
        print(f"check_links: no built site in {site} (run sphinx-build first)", file=sys.stderr)
        return 2
    broken, external = check(site)
    n_pages = sum(1 for _ in site.rglob("*.html"))
    for line in broken:
        print(f"broken link: {line}", file=sys.stderr)
    if list_external:
        for line in external:
            print(f"external (not checked): {line}")
    print(f"check_links: {n_pages} pages, {len(broken)} broken internal links, "
          f"{len(external)} external links not checked")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
