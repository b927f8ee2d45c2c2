"""Notebook HTML views: well-formed, escaped, bounded, and never a request."""

from html.parser import HTMLParser

from civis_dyn import ListResponse, PaginatedResponse, Response


class TagChecker(HTMLParser):
    """Collects start tags and fails on any end tag that does not close the innermost one."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.tags, self.text, self.links = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        self.tags.append(tag)
        if tag == "a":
            self.links.append(dict(attrs)["href"])

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(html):
    checker = TagChecker()
    checker.feed(html)
    checker.close()
    assert checker.stack == [], f"unclosed tags: {checker.stack}"
    return checker


HOSTILE = {"id": 7, "name": "<script>alert(1)</script>", "state": "x\" onmouseover=\"y",
           "lastRun": {"id": 3, "state": "succeeded", "logsUrl": "https://api.example/logs?a=1&b=2"},
           "homeUrl": "javascript:alert(1)", "tags": ["<b>", "c"],
           "runs": [{"id": 1}, {"id": 2}]}


def test_response_html_is_well_formed_and_api_text_stays_text():
    page = parse(Response(HOSTILE)._repr_html_())
    assert "script" not in page.tags and "b" in page.tags  # <b> only from our labels
    text = "".join(page.text)
    assert "<script>alert(1)</script>" in text and '"<b>"' in text
    assert "details" in page.tags and "summary" in page.tags  # collapsible tree


def test_only_http_url_fields_become_links():
    page = parse(Response(HOSTILE)._repr_html_())
    assert page.links == ["https://api.example/logs?a=1&b=2"]


def test_list_html_table_of_first_20_rows_with_common_scalar_fields():
    rows = [{"id": i, "name": f"job <{i}>", "lastRun": {"id": i}} for i in range(45)]
    rows[3]["extra"] = 1
    page = parse(ListResponse(rows)._repr_html_())
    assert page.tags.count("tr") == 21  # header + 20 rows
    assert page.tags.count("th") == 2  # id and name: lastRun is nested, extra not shared
    text = "".join(page.text)
    assert "job <19>" in text and "job <20>" not in text and "+25 more" in text


def test_paginated_html_shows_the_fetched_page_and_never_fetches():
    calls = []

    def fetch_page(page):
        calls.append(page)
        return [{"id": page * 10 + i} for i in range(3)], {
            "X-Pagination-Total-Pages": "4", "X-Pagination-Total-Entries": "12"}

    paged = PaginatedResponse(fetch_page)
    assert "nothing fetched yet" in paged._repr_html_() and calls == []
    next(paged)
    page = parse(paged._repr_html_())
    assert calls == [1]
    text = "".join(page.text)
    assert "page 1" in text and "12 items" in text and "+9 more" in text


def test_object_html_is_bounded_for_large_objects():
    value = {"items": [{"id": i, "tags": [{"n": j} for j in range(5)]} for i in range(5000)]}
    html = Response(value)._repr_html_()
    assert len(html) < 300_000 and "…" in html
    parse(html)
