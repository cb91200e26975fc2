"""The only module that talks to VTK: numpy in, numpy out."""

from __future__ import annotations

import os
import threading

import numpy as np
import numpy.typing as npt
from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray, vtk_to_numpy
from vtkmodules.vtkCommonCore import vtkDoubleArray, vtkLogger, vtkPoints, vtkSMPTools
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkImageData, vtkPolyData
from vtkmodules.vtkFiltersCore import (
    vtkFlyingEdges3D,
    vtkImplicitPolyDataDistance,
    vtkSurfaceNets3D,
)
from vtkmodules.vtkFiltersGeneral import vtkDiscreteFlyingEdges3D

_SETUP = threading.Lock()


def _configure(threads: int | None) -> None:
    # The pip wheel runs VTK's parallel filters sequentially unless a backend is chosen, and
    # Surface Nets logs every run at INFO on stderr. Process-wide settings: set them under a
    # lock, and only from the one-pass extraction (not from per-structure worker threads).
    with _SETUP:
        vtkLogger.SetStderrVerbosity(vtkLogger.VERBOSITY_WARNING)
        vtkSMPTools.SetBackend("STDThread")
        vtkSMPTools.Initialize(threads or os.cpu_count() or 1)


def _image(array: npt.NDArray[np.integer] | npt.NDArray[np.floating]) -> vtkImageData:
    """Wrap a C-ordered [i, j, k] array without copying: VTK sees it as (x, y, z) = (k, j, i)."""
    data = np.ascontiguousarray(array)
    image = vtkImageData()
    image.SetDimensions(data.shape[2], data.shape[1], data.shape[0])
    scalars = numpy_to_vtk(data.ravel(), deep=False)
    image.GetPointData().SetScalars(scalars)
    image._iris_keep_alive = data  # type: ignore[attr-defined]  # VTK does not own the buffer
    return image


def surface_nets(
    array: npt.NDArray[np.integer], labels: list[int], threads: int | None = None
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Unsmoothed Surface Nets quads of every label in one pass over ``array``.

    Returns points in [i, j, k] voxel coordinates, quads (unoriented) and each quad's two
    labels (inside, outside in no particular order; 0 is background).
    """
    _configure(threads)
    nets = vtkSurfaceNets3D()
    nets.SetInputData(_image(array))
    for n, label in enumerate(labels):
        nets.SetLabel(n, float(label))
    nets.SetBackgroundLabel(0)
    nets.SmoothingOff()  # we smooth per structure, after the affine, without shrinkage
    nets.SetOutputMeshTypeToQuads()
    nets.Update()
    output = nets.GetOutput()
    if output.GetNumberOfPoints() == 0:
        empty = np.zeros((0, 4), dtype=np.int32)
        return np.zeros((0, 3), dtype=np.float32), empty, np.zeros((0, 2), dtype=np.int32)
    points = vtk_to_numpy(output.GetPoints().GetData())[:, ::-1].astype(np.float32)
    quads = vtk_to_numpy(output.GetPolys().GetConnectivityArray()).reshape(-1, 4)
    pairs = vtk_to_numpy(output.GetCellData().GetArray("BoundaryLabels"))
    return points, quads.astype(np.int32), pairs.astype(np.int32)


def flying_edges(
    mask: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Marching-cubes triangles of a 0/1 mask at 0.5, in [i, j, k] voxel coordinates.

    Safe to call from several threads at once (it changes no process-wide setting).
    """
    return _contour(vtkDiscreteFlyingEdges3D(), mask, 1.0)


def iso_surface(
    field: npt.NDArray[np.float32], level: float = 0.0,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Marching-cubes triangles where a continuous ``field`` crosses ``level``, in [i, j, k]
    voxel coordinates (points on the grid's edges, linearly interpolated). Thread safe."""
    return _contour(vtkFlyingEdges3D(), np.ascontiguousarray(field, dtype=np.float32), level)


def _contour(
    contour: vtkFlyingEdges3D | vtkDiscreteFlyingEdges3D,
    array: npt.NDArray[np.integer] | npt.NDArray[np.floating],
    level: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    contour.SetInputData(_image(array))
    contour.SetValue(0, float(level))
    contour.ComputeNormalsOff()
    contour.ComputeGradientsOff()
    contour.ComputeScalarsOff()
    contour.Update()
    output = contour.GetOutput()
    if output.GetNumberOfPoints() == 0:
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
    points = vtk_to_numpy(output.GetPoints().GetData())[:, ::-1].astype(np.float64)
    triangles = vtk_to_numpy(output.GetPolys().GetConnectivityArray()).reshape(-1, 3)
    return points, triangles.astype(np.int64)


def distances_to_surface(
    points: npt.NDArray[np.floating],
    vertices: npt.NDArray[np.floating],
    triangles: npt.NDArray[np.integer],
) -> npt.NDArray[np.float64]:
    """Unsigned distance from each of (N, 3) ``points`` to the nearest point of the triangles."""
    polydata = vtkPolyData()
    corners = vtkPoints()
    corners.SetData(numpy_to_vtk(np.ascontiguousarray(vertices, dtype=np.float64), deep=True))
    polydata.SetPoints(corners)
    cells = vtkCellArray()
    cells.SetData(3, numpy_to_vtkIdTypeArray(
        np.ascontiguousarray(triangles, dtype=np.int64).ravel(), deep=True))
    polydata.SetPolys(cells)
    distance = vtkImplicitPolyDataDistance()
    distance.SetInput(polydata)
    values = vtkDoubleArray()
    distance.FunctionValue(numpy_to_vtk(np.ascontiguousarray(points, dtype=np.float64), deep=True),
                           values)
    result: npt.NDArray[np.float64] = np.abs(vtk_to_numpy(values)).astype(np.float64)
    return result
