"""Result-set kinds against a loopback Linkis: tables, text, IO, PICTURE and HTML (§6.6 shapes)."""

from __future__ import annotations

import base64

from linkis_magic import ResultKind
from linkis_magic.client import LinkisClient
from linkis_magic.results import decode_picture, html_images, image_mime, load_results
from tests.support.scripts import RESULT_DIR, ResultFile, ResultServer

# the smallest valid PNG (1x1, transparent): what matplotlib's savefig starts with
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
PNG_B64 = base64.b64encode(PNG).decode()
# Linkis's python engine show_matplotlib(): the src is not quoted, the img style has "width="
LINKIS_CHART = (
    "<div style='width:auto;height:auto'><img src=data:image/png;base64,"
    f"{PNG_B64} style='width=auto;height:auto'><div>"
)


class TestKinds:
    """Every type code becomes a typed kind, in result-set order, with its content."""

    def test_each_type_code_is_a_kind(self, client: LinkisClient, results: ResultServer) -> None:
        results.add(ResultFile("_0.dolphin", [("n", "int")], [["1"]]))
        results.add(ResultFile("_1.dolphin", [], [["printed"]], type="1"))
        results.add(ResultFile("_2.dolphin", [], [["io record"]], type="3"))
        results.add(ResultFile("_3.dolphin", [], [[PNG_B64]], type="4"))
        results.add(ResultFile("_4.dolphin", [], [[LINKIS_CHART]], type="5"))
        loaded = load_results(client, RESULT_DIR)
        assert [rs.kind for rs in loaded] == [
            ResultKind.TABLE,
            ResultKind.TEXT,
            ResultKind.IO,
            ResultKind.PICTURE,
            ResultKind.HTML,
        ]
        assert [rs.type for rs in loaded] == ["2", "1", "3", "4", "5"]  # the codes stay readable
        table, text, io, picture, html = loaded
        assert table.frame is not None and table.html is None and table.images == []
        assert text.text == "printed" and text.html is None and text.image is None
        assert io.text == "io record" and io.frame is None and io.images == []
        assert picture.image == PNG and picture.html is None
        assert html.html == LINKIS_CHART and html.images == [PNG] and html.image == PNG

    def test_an_html_page_without_images_and_a_picture_that_is_not_one(
        self, client: LinkisClient, results: ResultServer
    ) -> None:
        results.add(ResultFile("_0.dolphin", [], [["<b>bold</b>"], ["<i>more</i>"]], type="5"))
        results.add(ResultFile("_1.dolphin", [], [["bm90IGFuIGltYWdl"]], type="4"))
        html, picture = load_results(client, RESULT_DIR)
        assert html.html == "<b>bold</b>\n<i>more</i>" and html.images == []
        assert picture.kind is ResultKind.PICTURE and picture.image is None

    def test_unknown_codes_read_as_text(self) -> None:
        assert ResultKind.of("script/text") is ResultKind.TEXT
        assert ResultKind.of("9") is ResultKind.TEXT
        assert ResultKind.of(None) is ResultKind.TEXT
        assert ResultKind.of("5") is ResultKind.HTML and ResultKind.HTML == "5"
        assert ResultKind.PICTURE.label == "picture"


class TestMedia:
    """Image bytes come out of data URIs, bare base64 and <img> tags, checked by magic number."""

    def test_pictures(self) -> None:
        assert decode_picture(PNG_B64) == PNG
        assert decode_picture(f"data:image/png;base64,{PNG_B64}\n") == PNG
        assert decode_picture("<svg xmlns='http://www.w3.org/2000/svg'></svg>") is not None
        assert decode_picture("not base64 at all!") is None
        assert image_mime(PNG) == "image/png"
        assert image_mime(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
        assert image_mime(b"GIF89a...") == "image/gif"
        assert image_mime(b"plain") is None

    def test_img_tags_quoted_or_not(self) -> None:
        quoted = f'<p><img alt="x" src="data:image/png;base64,{PNG_B64}"></p>'
        assert html_images(LINKIS_CHART + quoted) == [PNG, PNG]
        assert html_images("<img src='https://example.com/a.png'>") == []
