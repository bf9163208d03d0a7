"""The bulk review's pictures of one person: every face in the picture blurred, the
neighbours' too, on a real classroom frame (see ``test_privacy_blur.py`` for the data)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lessonreview.core.domain import Box
from lessonreview.core.privacy.face_blur import PersonRegion
from lessonreview.core.privacy.person_thumbnail import (
    ThumbnailRequest,
    crop_window,
    person_thumbnail,
)
from test_privacy_blur import DATA, FRAME, _body_under, _frame_and_heads

pytestmark = pytest.mark.skipif(
    not (DATA / "images" / f"{FRAME}.jpg").exists(), reason="classroom-cctv data not present"
)

SIZE = (150, 180)


def _in_picture(box: Box, window, scale: float, offset) -> Box:
    x0, y0 = window[:2]
    ox, oy = offset
    return Box(
        ox + (box.x0 - x0) * scale,
        oy + (box.y0 - y0) * scale,
        ox + (box.x1 - x0) * scale,
        oy + (box.y1 - y0) * scale,
    )


def _detail(rgb: np.ndarray, box: Box) -> float:
    h, w = rgb.shape[:2]
    x0, y0 = max(0, int(box.x0)), max(0, int(box.y0))
    x1, y1 = min(w, int(np.ceil(box.x1))), min(h, int(np.ceil(box.y1)))
    gray = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def test_every_face_in_a_persons_picture_is_blurred_the_neighbours_too():
    image, heads = _frame_and_heads()
    people = tuple(PersonRegion(_body_under(h)) for h in heads)
    height, width = image.shape[:2]
    checked = 0
    for person in people[::4]:
        request = ThumbnailRequest("k", 0, person.box, people)
        # Without the outline of the person's box, whose lines are detail of their own.
        picture = person_thumbnail(image, request, size=SIZE, outline=False)
        assert picture.shape == (SIZE[1], SIZE[0], 3)
        # The same crop without the blur, scaled as the picture is.
        window = crop_window(person.box, width=width, height=height, aspect=SIZE[0] / SIZE[1])
        x0, y0, x1, y1 = window
        scale = min(SIZE[0] / (x1 - x0), SIZE[1] / (y1 - y0))
        w, h = round((x1 - x0) * scale), round((y1 - y0) * scale)
        offset = ((SIZE[0] - w) // 2, (SIZE[1] - h) // 2)
        sharp = np.zeros_like(picture)
        sharp[offset[1] : offset[1] + h, offset[0] : offset[0] + w] = cv2.cvtColor(
            cv2.resize(image[y0:y1, x0:x1], (w, h), interpolation=cv2.INTER_AREA),
            cv2.COLOR_BGR2RGB,
        )
        for head in heads:
            inside = _in_picture(head, window, scale, offset)
            if inside.x0 < 0 or inside.y0 < 0 or inside.x1 > SIZE[0] or inside.y1 > SIZE[1]:
                continue  # cut by the picture's edge: too few pixels to measure
            if inside.width < 6 or inside.height < 6:
                continue
            assert _detail(sharp, inside) > 4 * _detail(picture, inside), (head, inside)
            checked += 1
    assert checked >= 5


def test_where_nobody_was_located_the_picture_is_hidden_whole():
    image, heads = _frame_and_heads()
    nobody = ThumbnailRequest("k", 0, None, None)
    picture = person_thumbnail(image, nobody, size=SIZE)
    whole = Box(0, 0, SIZE[0], SIZE[1])
    sharp = cv2.cvtColor(cv2.resize(image, SIZE, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    assert _detail(sharp, whole) > 4 * _detail(picture, whole)
