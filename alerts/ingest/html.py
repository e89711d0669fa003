"""HTML live-blog pages split into their posts, using the page's own structure.

1. Time-stamped entries: each ``<time>`` (or ``[datetime]``) element marks a post; the post is
   the largest ancestor of that stamp that holds no other stamp.
2. Otherwise headings with their paragraphs: the most repeated heading level under the main
   content starts a post, and the text blocks after it, up to the next one, are its body.
3. Otherwise the page is one item: its title and its paragraphs.
Navigation, headers, footers, asides, forms and scripts are ignored.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from alerts.ingest.clean import join_paragraphs, squash
from alerts.ingest.htmltime import parse_stamp
from alerts.ingest.ids import content_id
from alerts.ingest.items import make_item
from alerts.ingest.plaintext import first_sentence
from alerts.models import Item

_NOISE = ["script", "style", "noscript", "template", "nav", "aside", "form"]
_POST_PARTS = {"article", "section", "li"}
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_TEXT_BLOCKS = {"p", "li", "blockquote", "pre", "figcaption", "dd"}
_ANCHOR_ATTRS = ("id", "data-id", "data-post-id", "data-entry-id", "name")


@dataclass(frozen=True)
class Post:
    """One post found on the page, before it becomes an Item."""

    title: str
    paragraphs: tuple[str, ...]
    anchor: str | None = None
    stamp: str | None = None


def _text(node: LexborNode) -> str:
    return squash(node.text(separator=" "))


def _stamps(node: LexborNode) -> list[LexborNode]:
    """Time stamps under a node: ``<time>`` elements and other elements with ``datetime``."""
    return [*node.css("time"), *(n for n in node.css("[datetime]") if n.tag != "time")]


def _post_list(
    root: LexborNode, stamps: list[LexborNode]
) -> tuple[LexborNode, dict[int, LexborNode]] | None:
    """The element whose children hold the most stamps (the list of posts), and per child its
    first stamp. O(stamps x depth); nodes are compared by id, as equality in selectolax is slow."""
    children: dict[int, dict[int, LexborNode]] = {}
    nodes: dict[int, LexborNode] = {}
    top = root.mem_id
    for stamp in stamps:
        child, parent = stamp, stamp.parent
        while parent is not None:
            nodes[parent.mem_id] = parent
            children.setdefault(parent.mem_id, {}).setdefault(child.mem_id, stamp)
            if parent.mem_id == top:
                break
            child, parent = parent, parent.parent
    scores = {k: _content_children(nodes[k], v) for k, v in children.items() if len(v) >= 2}
    best = max(scores, key=lambda k: scores[k], default=None)
    return (nodes[best], children[best]) if best is not None and scores[best] >= 2 else None


def _content_children(parent: LexborNode, stamped: dict[int, LexborNode]) -> int:
    """How many stamped children hold more than their stamp (posts, not a pair of dates)."""
    count = 0
    for child in parent.iter(include_text=False):
        stamp = stamped.get(child.mem_id)
        if stamp is not None and len(_text(child)) > len(_text(stamp)) + 1:
            count += 1
    return count


def _stamp_posts(root: LexborNode) -> list[Post]:
    found = _post_list(root, _stamps(root))
    if found is None:
        return []
    parent, stamped = found
    posts = []
    for child in parent.iter(include_text=False):
        stamp = stamped.get(child.mem_id)
        if stamp is not None and child.tag != "header":  # a header holds the page's dateline
            posts.append(_container_post(child, stamp))
    return posts


def _anchor(*nodes: LexborNode) -> str | None:
    for node in nodes:
        for name in _ANCHOR_ATTRS:
            value = node.attributes.get(name)
            if value:
                return value
    return None


def _container_post(node: LexborNode, stamp: LexborNode) -> Post:
    heading = node.css_first(", ".join(_HEADINGS)) or node.css_first("strong, b")
    title = _text(heading) if heading is not None else ""
    blocks = [
        _text(b)
        for b in node.css(", ".join(sorted(_TEXT_BLOCKS)))
        if b.mem_id != node.mem_id and not _nested(b, node)
    ]
    if not blocks and not title:
        blocks = [_text(node).removeprefix(_text(stamp)).strip()]
    if blocks and title == blocks[0]:
        blocks = blocks[1:]
    if not title and blocks:
        title = first_sentence(blocks[0])
    when = stamp.attributes.get("datetime") or _text(stamp)
    return Post(title, tuple(b for b in blocks if b), _anchor(node, stamp), when)


def _nested(node: LexborNode, top: LexborNode | None = None) -> bool:
    """Whether a text block sits inside another one below ``top`` (counted once, by the outer)."""
    parent = node.parent
    stop = top.mem_id if top is not None else None
    while parent is not None and parent.mem_id != stop:
        if parent.tag in _TEXT_BLOCKS:
            return True
        parent = parent.parent
    return False


def _heading_posts(root: LexborNode) -> list[Post]:
    levels = Counter(h.tag or "" for h in root.css(", ".join(_HEADINGS[1:])))
    repeated = [tag for tag, n in levels.items() if n >= 2]
    if not repeated:
        return []
    level = min(repeated)  # the highest repeated level: h2 before h3
    posts: list[Post] = []
    for node in root.traverse(include_text=False):
        if node.tag == level:
            posts.append(Post(_text(node), (), _anchor(node)))
        elif posts and node.tag in _TEXT_BLOCKS and not _nested(node):
            last = posts[-1]
            posts[-1] = Post(last.title, (*last.paragraphs, _text(node)), last.anchor)
    return posts


def _page_post(tree: LexborHTMLParser, root: LexborNode) -> list[Post]:
    h1 = root.css_first("h1")
    title_node = h1 if h1 is not None else tree.css_first("title")
    title = _text(title_node) if title_node is not None else ""
    blocks = [_text(b) for b in root.css("p, li, blockquote") if not _nested(b)]
    return [Post(title, tuple(blocks))] if title or any(blocks) else []


def _drop_page_chrome(tree: LexborHTMLParser) -> None:
    """Remove the page's header and footer, but keep those that belong to a post."""
    for node in tree.css("header, footer"):
        parent, inside_post = node.parent, False
        while parent is not None and not inside_post:
            inside_post = parent.tag in _POST_PARTS
            parent = parent.parent
        if not inside_post:
            node.decompose()


def split_posts(html: str) -> tuple[list[Post], str | None]:
    """The posts of a page, in page order, and the page's language (``<html lang>``)."""
    tree = LexborHTMLParser(html)
    top = tree.css_first("html")
    language = top.attributes.get("lang") if top is not None else None
    tree.strip_tags(_NOISE)
    _drop_page_chrome(tree)
    root = tree.css_first("main") or tree.body or tree.root
    if root is None:
        return [], language
    return _stamp_posts(root) or _heading_posts(root) or _page_post(tree, root), language


def parse_html(
    html: str, *, source: str, base_url: str | None = None, today: datetime | None = None
) -> list[Item]:
    """Items of a live-blog page; a post's URL is the page URL with the post's anchor."""
    items = []
    posts, language = split_posts(html)
    for post in posts:
        body = join_paragraphs(list(post.paragraphs))
        if not post.title and not body:
            continue
        anchor = f"#{post.anchor}" if post.anchor else None
        url = urljoin(base_url, anchor) if base_url and anchor else base_url
        # Posts share the page URL, so their ids come from the anchor or the content.
        guid = f"post:{base_url or ''}{anchor}" if anchor else content_id(post.title, body)
        items.append(
            make_item(
                source,
                title=post.title,
                body=body,
                url=url,
                guid=guid,
                published=parse_stamp(post.stamp, today) if post.stamp else None,
                language=language,
            )
        )
    return items
