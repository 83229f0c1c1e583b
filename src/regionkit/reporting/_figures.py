"""Orthogonal-view figures drawn with matplotlib (Agg, no pyplot state).

Each panel is a plane sampled on a regular display grid in world coordinates
(about 1 mm per pixel): the background (template or mean image) and every
overlay are sampled at the plane's pixels, so nothing is resampled as a whole
volume. The three panels are composed as one RGB array and placed pixel for
pixel on a matplotlib figure (``figimage``) with text labels; no Axes are
built, which keeps a figure at a few tens of milliseconds. Pictures are
returned as base64 PNG ``data:`` URIs.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

__all__ = [
    "Canvas",
    "LabelLayer",
    "ScalarLayer",
    "SphereLayer",
    "densest_cut",
    "glass_figure",
    "label_colors",
    "make_canvas",
    "orthogonal_figure",
    "sample_volume",
]

# Field of view used when no background image is available (MNI152, mm).
MNI_BOUNDS = np.array([[-90.0, 91.0], [-126.0, 91.0], [-72.0, 109.0]])
_AXIS_NAMES = ("x", "y", "z")
_VIEW_NAMES = ("sagittal", "coronal", "axial")
_DPI = 100
_PANEL_PIXELS = 240  # height of the tallest panel
_GAP = 6  # black pixels between and around panels


def sample_volume(
    data: np.ndarray, affine: np.ndarray, points: np.ndarray, order: int = 0
) -> np.ndarray:
    """Values of a 3D array at world coordinates.

    Parameters
    ----------
    data : ndarray of shape (X, Y, Z)
        Voxel values.
    affine : ndarray of shape (4, 4)
        Voxel-to-world transform of ``data``.
    points : ndarray of shape (n_points, 3)
        World coordinates (mm).
    order : {0, 1}, default=0
        0 for nearest neighbour, 1 for trilinear interpolation.

    Returns
    -------
    values : ndarray of shape (n_points,)
        Sampled values; 0 outside the field of view.
    """
    inverse = np.linalg.inv(affine)
    ijk = points @ inverse[:3, :3].T + inverse[:3, 3]
    if order == 0:
        index = np.rint(ijk).astype(np.intp)
        inside = np.all((index >= 0) & (index < np.array(data.shape[:3])), axis=1)
        values = np.zeros(len(points), dtype=data.dtype)
        values[inside] = data[index[inside, 0], index[inside, 1], index[inside, 2]]
        return values
    if data.dtype != np.float32:
        data = data.astype(np.float32)
    return ndimage.map_coordinates(data, ijk.T, order=1, cval=0.0, prefilter=False)


@dataclass
class Canvas:
    """A background volume and the display grid its panels are drawn on.

    Attributes
    ----------
    data : ndarray of shape (X, Y, Z)
        Background intensities (raw values), all zeros when there is none.
    affine : ndarray of shape (4, 4)
        Voxel-to-world transform of ``data``.
    bounds : ndarray of shape (3, 2)
        World bounding box (mm) drawn, per axis (low, high).
    pitch : float
        Display pixel size (mm).
    name : str
        What the background is (shown in captions).
    low, high : float
        Intensities mapped to black and white.
    """

    data: np.ndarray
    affine: np.ndarray
    bounds: np.ndarray
    pitch: float
    name: str
    low: float = 0.0
    high: float = 1.0

    def scale(self, values: np.ndarray) -> np.ndarray:
        """Intensities mapped to [0, 1] (non-finite values to 0)."""
        values = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0,
                               posinf=0.0, neginf=0.0)
        scaled = (values - self.low) / (self.high - self.low)
        return np.clip(scaled, 0.0, 1.0, out=scaled)

    def axis_coords(self, axis: int) -> np.ndarray:
        """World coordinates of the display pixels along ``axis``."""
        low, high = self.bounds[axis]
        return low + self.pitch * (np.arange(int((high - low) / self.pitch) + 1))

    def plane_points(self, axis: int, coordinate: float) -> tuple[np.ndarray, tuple[int, int]]:
        """World coordinates of every display pixel of the plane ``axis = coordinate``.

        Returns ``(points, shape)``: points of shape (n_u * n_v, 3) ordered as a
        (n_u, n_v) array over the two remaining axes in increasing axis order.
        """
        u_axis, v_axis = (a for a in range(3) if a != axis)
        u = self.axis_coords(u_axis)
        v = self.axis_coords(v_axis)
        points = np.empty((len(u), len(v), 3))
        points[..., u_axis] = u[:, None]
        points[..., v_axis] = v[None, :]
        points[..., axis] = coordinate
        return points.reshape(-1, 3), (len(u), len(v))

    def plane(self, axis: int, coordinate: float) -> np.ndarray:
        """Scaled background of one plane, shape (n_u, n_v)."""
        points, shape = self.plane_points(axis, coordinate)
        return self.scale(sample_volume(self.data, self.affine, points)).reshape(shape)

    def projection(self, axis: int) -> np.ndarray:
        """Scaled maximum-intensity projection along world ``axis``, shape (n_u, n_v).

        The projection runs along the voxel axis closest to ``axis`` (exact for
        the diagonal affines of templates and preprocessed data).
        """
        voxel_axis = int(np.argmax(np.abs(self.affine[axis, :3])))
        projected = np.nanmax(self.data, axis=voxel_axis)
        keep = [a for a in range(3) if a != voxel_axis]
        points, shape = self.plane_points(axis, 0.0)
        inverse = np.linalg.inv(self.affine)
        ijk = points @ inverse[:3, :3].T + inverse[:3, 3]
        index = np.rint(ijk[:, keep]).astype(np.intp)
        inside = np.all((index >= 0) & (index < np.array(projected.shape)), axis=1)
        values = np.zeros(len(points), dtype=np.float32)
        values[inside] = projected[index[inside, 0], index[inside, 1]]
        return self.scale(values).reshape(shape)

    def pixel(self, axis: int, point: np.ndarray) -> tuple[float, float]:
        """(column, row from the bottom) of a world point in the panel normal to ``axis``."""
        u_axis, v_axis = (a for a in range(3) if a != axis)
        return (
            (point[u_axis] - self.bounds[u_axis, 0]) / self.pitch,
            (point[v_axis] - self.bounds[v_axis, 0]) / self.pitch,
        )


def _intensity_range(data: np.ndarray) -> tuple[float, float]:
    """Robust display range from a strided sample of the nonzero voxels."""
    step = max(1, int(round((data.size / 2e5) ** (1 / 3))))
    sample = np.asarray(data[::step, ::step, ::step], dtype=np.float32)
    sample = sample[np.isfinite(sample) & (sample != 0)]
    if sample.size == 0:
        return 0.0, 1.0
    low, high = np.percentile(sample, [2.0, 99.5])
    if high <= low:  # (nearly) constant image: show it mid-grey to white
        low, high = min(0.0, float(sample.min())), float(sample.max())
    return float(low), float(high if high > low else low + 1.0)


def make_canvas(
    data: np.ndarray | None, affine: np.ndarray | None, name: str
) -> Canvas:
    """A canvas over the bounding box of a background image.

    Parameters
    ----------
    data : ndarray of shape (X, Y, Z) or None
        Background intensities; None gives an empty canvas over the MNI152
        field of view.
    affine : ndarray of shape (4, 4) or None
        Voxel-to-world transform of ``data``.
    name : str
        Label used in figure captions.

    Returns
    -------
    canvas : Canvas
    """
    if data is None:
        affine = np.diag([2.0, 2.0, 2.0, 1.0])
        affine[:3, 3] = MNI_BOUNDS[:, 0]
        shape = np.ceil((MNI_BOUNDS[:, 1] - MNI_BOUNDS[:, 0]) / 2.0).astype(int)
        data = np.zeros(tuple(shape), np.float32)
    data = np.asarray(data)
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise ValueError(f"background image must be 3D, got an array of shape {data.shape}")
    affine = np.asarray(affine, dtype=float)
    corners = np.array(
        [[i, j, k] for i in (-0.5, data.shape[0] - 0.5) for j in (-0.5, data.shape[1] - 0.5)
         for k in (-0.5, data.shape[2] - 0.5)]
    )
    world = corners @ affine[:3, :3].T + affine[:3, 3]
    bounds = np.column_stack([world.min(axis=0), world.max(axis=0)])
    extents = bounds[:, 1] - bounds[:, 0]
    pitch = float(max(extents[1], extents[2]) / _PANEL_PIXELS)
    return Canvas(data, affine, bounds, pitch, name, *_intensity_range(data))


# ----------------------------------------------------------------------------------
# overlay layers: each returns RGBA values (n_points, 4) in [0, 1] for world points


@dataclass
class LabelLayer:
    """Integer labels drawn with one colour per label.

    ``colors`` maps each label value in ``labels`` to an RGB triple; label 0 (or
    any value not in ``labels``) is transparent.
    """

    data: np.ndarray
    affine: np.ndarray
    labels: np.ndarray
    colors: np.ndarray
    alpha: float = 0.75

    def rgba(self, points: np.ndarray) -> np.ndarray:
        values = sample_volume(self.data, self.affine, points, order=0)
        rgba = np.zeros((len(points), 4))
        if len(self.labels) == 0:
            return rgba
        order = np.argsort(self.labels)
        sorted_labels = self.labels[order]
        position = np.clip(np.searchsorted(sorted_labels, values), 0, len(sorted_labels) - 1)
        known = sorted_labels[position] == values
        rgba[known, :3] = self.colors[order[position[known]]]
        rgba[known, 3] = self.alpha
        return rgba


@dataclass
class ScalarLayer:
    """A continuous map, transparent where ``|value| <= threshold``."""

    data: np.ndarray
    affine: np.ndarray
    cmap: str = "CMRmap_r"
    vmin: float = 0.0
    vmax: float = 1.0
    threshold: float = 0.0
    alpha: float = 0.85

    def rgba(self, points: np.ndarray) -> np.ndarray:
        from matplotlib import colormaps

        values = sample_volume(self.data, self.affine, points, order=1)
        span = self.vmax - self.vmin or 1.0
        rgba = colormaps[self.cmap](np.clip((values - self.vmin) / span, 0.0, 1.0))
        # opacity grows with |value| up to a quarter of the range: weak tails fade
        # out instead of painting the background with the colormap's low end
        strength = np.abs(values) / (0.25 * max(abs(self.vmin), abs(self.vmax)) or 1.0)
        rgba[:, 3] = np.where(
            np.abs(values) > self.threshold, self.alpha * np.clip(strength, 0.0, 1.0), 0.0
        )
        return rgba


@dataclass
class SphereLayer:
    """Balls of ``radius`` mm around ``centers``, optionally cut by a mask."""

    centers: np.ndarray
    radius: float
    color: tuple[float, float, float] = (0.1, 0.9, 0.2)
    mask_data: np.ndarray | None = None
    mask_affine: np.ndarray | None = None
    alpha: float = 0.8

    def rgba(self, points: np.ndarray) -> np.ndarray:
        inside = np.zeros(len(points), dtype=bool)
        for center in np.atleast_2d(self.centers):
            squared = ((points - center) ** 2).sum(axis=1)
            inside |= squared <= max(self.radius, 1.0) ** 2
        if self.mask_data is not None:
            inside &= sample_volume(self.mask_data, self.mask_affine, points) > 0
        rgba = np.zeros((len(points), 4))
        rgba[inside, :3] = self.color
        rgba[inside, 3] = self.alpha
        return rgba


def _compose(canvas: Canvas, axis: int, coordinate: float, layers: Sequence) -> np.ndarray:
    """RGB image (n_v, n_u, 3) of one plane, top row first."""
    background = canvas.plane(axis, coordinate)
    rgb = np.repeat(background[..., None], 3, axis=-1)
    if layers:
        points, shape = canvas.plane_points(axis, coordinate)
        for layer in layers:
            rgba = layer.rgba(points).reshape(*shape, 4)
            alpha = rgba[..., 3:4]
            rgb = rgb * (1.0 - alpha) + rgba[..., :3] * alpha
    return np.transpose(rgb, (1, 0, 2))[::-1]


def _draw_cross(panel: np.ndarray, column: float, row_from_bottom: float, size: int = 6) -> None:
    height, width = panel.shape[:2]
    c, r = int(round(column)), int(round(height - 1 - row_from_bottom))
    if not (0 <= c < width and 0 <= r < height):
        return
    panel[r, max(c - size, 0): c + size + 1] = 1.0
    panel[max(r - size, 0): r + size + 1, c] = 1.0


def _draw_discs(
    panel: np.ndarray, pixels: np.ndarray, colors: np.ndarray, radius: float
) -> None:
    """Filled discs with a white rim at (column, row from bottom) pixels."""
    height, width = panel.shape[:2]
    reach = int(np.ceil(radius)) + 1
    offsets = np.arange(-reach, reach + 1)
    dc, dr = np.meshgrid(offsets, offsets)
    distance = np.sqrt(dc**2 + dr**2)
    for (column, row), color in zip(pixels, colors, strict=True):
        c, r = int(round(column)), int(round(height - 1 - row))
        cols, rows = c + dc, r + dr
        inside = (cols >= 0) & (cols < width) & (rows >= 0) & (rows < height)
        rim = inside & (distance <= radius + 1.0) & (distance > radius)
        fill = inside & (distance <= radius)
        panel[rows[rim], cols[rim]] = 1.0
        panel[rows[fill], cols[fill]] = color


def _assemble(panels: Sequence[np.ndarray]) -> np.ndarray:
    height = max(p.shape[0] for p in panels) + 2 * _GAP
    width = sum(p.shape[1] for p in panels) + _GAP * (len(panels) + 1)
    image = np.zeros((height, width, 3))
    left = _GAP
    for panel in panels:
        top = (height - panel.shape[0]) // 2
        image[top: top + panel.shape[0], left: left + panel.shape[1]] = panel
        left += panel.shape[1] + _GAP
    return image


def _encode(image: np.ndarray, panels: Sequence[np.ndarray], labels: Sequence[str]
            ) -> tuple[str, int, int]:
    """Put the composed image on a figure, label the panels, return a PNG data URI."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.figure import Figure as MplFigure

    height, width = image.shape[:2]
    figure = MplFigure(figsize=(width / _DPI, height / _DPI), dpi=_DPI, facecolor="black")
    pixels = (np.clip(image, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    figure.figimage(pixels, xo=0, yo=0, origin="upper")
    font = FontProperties(size=9)
    left = _GAP
    for axis, (panel, label) in enumerate(zip(panels, labels, strict=True)):
        top = (height - panel.shape[0]) // 2
        figure.text((left + 4) / width, 1 - (top + 4) / height, label, color="white",
                    fontproperties=font, va="top", ha="left")
        if axis in (1, 2):  # coronal and axial views: left is on the left
            bottom = 1 - (top + panel.shape[0] - 4) / height
            figure.text((left + 4) / width, bottom, "L", color="white", fontproperties=font)
            figure.text((left + panel.shape[1] - 4) / width, bottom, "R", color="white",
                        fontproperties=font, ha="right")
        left += panel.shape[1] + _GAP
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, facecolor="black",
                   pil_kwargs={"compress_level": 2})
    payload = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"data:image/png;base64,{payload}", width, height


def orthogonal_figure(
    canvas: Canvas,
    cut_coords: Sequence[float],
    layers: Sequence = (),
    markers: np.ndarray | None = None,
) -> tuple[str, int, int]:
    """Sagittal, coronal and axial planes through ``cut_coords`` with overlays.

    Parameters
    ----------
    canvas : Canvas
        Background and display grid.
    cut_coords : sequence of 3 floats
        World coordinates (mm) of the three planes.
    layers : sequence of LabelLayer, ScalarLayer or SphereLayer
        Overlays, drawn in order.
    markers : ndarray of shape (n, 3) or None
        Points to mark with a white cross in every view.

    Returns
    -------
    data_uri, width, height : str, int, int
        The PNG as a ``data:`` URI and its pixel size.
    """
    cut_coords = np.asarray(cut_coords, dtype=float)
    panels, labels = [], []
    for axis in range(3):
        panel = _compose(canvas, axis, cut_coords[axis], layers)
        if markers is not None:
            for point in np.atleast_2d(markers):
                _draw_cross(panel, *canvas.pixel(axis, point))
        panels.append(panel)
        labels.append(f"{_AXIS_NAMES[axis]} = {cut_coords[axis]:.0f}")
    return _encode(_assemble(panels), panels, labels)


def glass_figure(
    canvas: Canvas, points: np.ndarray, colors: np.ndarray, radius_pixels: float
) -> tuple[str, int, int]:
    """Points as discs over maximum-intensity projections of the background.

    Parameters
    ----------
    canvas : Canvas
        Background and display grid.
    points : ndarray of shape (n, 3)
        World coordinates (mm) of the points (e.g. sphere centres).
    colors : ndarray of shape (n, 3)
        RGB colour of each point.
    radius_pixels : float
        Disc radius in pixels.

    Returns
    -------
    data_uri, width, height : str, int, int
    """
    points = np.asarray(points, dtype=float).reshape(-1, 3)
    panels = []
    for axis in range(3):
        projection = canvas.projection(axis) * 0.6
        panel = np.repeat(np.transpose(projection)[::-1][..., None], 3, axis=-1)
        pixels = np.array([canvas.pixel(axis, p) for p in points]).reshape(-1, 2)
        _draw_discs(panel, pixels, np.asarray(colors).reshape(-1, 3), radius_pixels)
        panels.append(panel)
    return _encode(_assemble(panels), panels, list(_VIEW_NAMES))


def label_colors(n_labels: int) -> np.ndarray:
    """Distinct RGB colours for ``n_labels`` labels (tab20 up to 20, else hsv hues)."""
    from matplotlib import colormaps

    if n_labels <= 20:
        # strong shades first (even entries of tab20), then the light ones
        order = np.r_[np.arange(0, 20, 2), np.arange(1, 20, 2)][:n_labels]
        return np.asarray(colormaps["tab20"](order))[:, :3]
    # golden-ratio hue steps: consecutive labels (often neighbours) differ in hue
    hues = (np.arange(n_labels) * 0.6180339887) % 1.0
    colors = np.asarray(colormaps["hsv"](hues))[:, :3]
    shade = np.where(np.arange(n_labels) % 3 == 2, 0.65, 1.0)  # a few darker tones
    return colors * shade[:, None]


def densest_cut(data: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """World coordinates of the planes holding the most nonzero voxels per axis.

    Parameters
    ----------
    data : ndarray of shape (X, Y, Z)
        Any volume; nonzero voxels count.
    affine : ndarray of shape (4, 4)
        Its voxel-to-world transform.

    Returns
    -------
    cut_coords : ndarray of shape (3,)
        (x, y, z) in mm; the image centre when ``data`` is all zeros.
    """
    nonzero = data != 0
    if not nonzero.any():
        center = (np.array(data.shape[:3]) - 1) / 2
        return affine[:3, :3] @ center + affine[:3, 3]
    index = [int(np.argmax(nonzero.sum(axis=tuple(a for a in range(3) if a != axis))))
             for axis in range(3)]
    return affine[:3, :3] @ np.array(index, float) + affine[:3, 3]
