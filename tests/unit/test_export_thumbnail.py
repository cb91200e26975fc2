"""The study thumbnail: a coronal view, patient's right on the image's left, head up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from tests.support.mesh_cases import phantom, reoriented

from iris3d.export import thumbnail_image, write_thumbnail
from iris3d.export.thumbnail import LABEL_OPACITY, _overlay
from iris3d.volume import CTVolume, LabelMap


def test_png_with_square_millimetre_pixels(tmp_path: Path) -> None:
    p = phantom()
    write_thumbnail(p.ct, p.labels, tmp_path / "thumb.png", size=256)
    image = Image.open(tmp_path / "thumb.png")
    assert image.format == "PNG" and image.mode == "RGB"
    width_mm, height_mm = 128 * 3.0, 96 * 3.0
    assert max(image.size) == 256
    assert abs(image.size[0] / image.size[1] - width_mm / height_mm) < 0.02


def test_labels_drawn_where_the_organs_are() -> None:
    p = phantom()
    with_labels = np.asarray(thumbnail_image(p.ct, p.labels, 256), dtype=np.float64)
    without = np.asarray(thumbnail_image(p.ct, None, 256), dtype=np.float64)
    changed = np.abs(with_labels - without).sum(axis=2) > 30
    rows, columns = np.nonzero(changed)
    assert changed.mean() > 0.1
    liver = p.labels.table.by_name("liver").colour
    spleen = p.labels.table.by_name("spleen").colour
    overlay = with_labels.reshape(-1, 3)
    base = without.reshape(-1, 3)
    # Where the overlay pulls towards a colour: alpha-blend residual against that colour.
    def where_colour(colour: tuple[int, int, int]) -> float:
        residual = overlay - 0.4 * base
        target = 0.6 * np.asarray(colour, dtype=np.float64)
        hits = np.linalg.norm(residual - target, axis=1) < 6
        return float(np.argwhere(hits.reshape(changed.shape))[:, 1].mean())

    width = with_labels.shape[1]
    assert where_colour(liver) < width / 2 < where_colour(spleen)  # patient's right on the left
    assert rows.min() >= 0 and columns.max() < width


def test_same_picture_whatever_the_voxel_order() -> None:
    p = phantom()
    lps_labels = reoriented(p.labels, (0, 1), (0, 1, 2))
    hu = np.ascontiguousarray(p.ct.array[::-1, ::-1]).astype(np.int16)
    lps_ct = CTVolume(array=hu, affine=lps_labels.affine)
    a = np.asarray(thumbnail_image(p.ct, p.labels, 128), dtype=np.int16)
    b = np.asarray(thumbnail_image(lps_ct, lps_labels, 128), dtype=np.int16)
    assert np.abs(a - b).max() <= 1


def test_the_front_most_structure_is_drawn() -> None:
    # Two structures on one line of sight: the anterior one (larger j in RAS) hides the other.
    p = phantom()
    array = np.zeros_like(p.labels.array)
    back, front = sorted(p.labels.table)[:2]
    array[5, 3:8, 4] = back
    array[5, 12:14, 4] = front
    array[6, 3:8, 4] = back  # alone on its line
    labels = LabelMap(array=array, affine=p.labels.affine, table=p.labels.table)
    grey = np.zeros((array.shape[0], array.shape[2], 3))
    drawn = _overlay(grey, labels)
    colour = {label: np.asarray(p.labels.table[label].colour) / 255.0 * LABEL_OPACITY
              for label in (back, front)}
    np.testing.assert_allclose(drawn[5, 4], colour[front], atol=1e-6)
    np.testing.assert_allclose(drawn[6, 4], colour[back], atol=1e-6)
    assert not drawn[7, 4].any()
