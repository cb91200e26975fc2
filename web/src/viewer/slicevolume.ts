// The NiiVue side of the slice views; only ever loaded through import() when the Slices tab opens.
import { DRAG_MODE, Niivue, SLICE_TYPE, type NiiVueLocation } from "@niivue/niivue";
import type { LabelColormap, WindowPreset } from "./slices";
import { windowRange } from "./slices";

/** What a left-button drag does in the slices. */
export type SliceTool = "crosshair" | "window" | "measure";

const DRAG_MODES: Record<SliceTool, DRAG_MODE> = {
  crosshair: DRAG_MODE.crosshair, window: DRAG_MODE.windowing, measure: DRAG_MODE.measurement,
};

/** The voxel under the crosshair: RAS+ mm, voxel indices, HU and label id. */
export interface SliceLocation { mm: number[]; vox: number[]; hu: number; label: number }

export class SliceView {
  readonly canvas: HTMLCanvasElement;
  private nv: Niivue;
  /** Called with the label id under a click in a slice (0 = background). */
  onLabel: ((id: number) => void) | null = null;
  /** Called whenever the crosshair moves (click or drag). */
  onLocation: ((at: SliceLocation) => void) | null = null;
  /** Called with the CT's HU range after the window was dragged. */
  onWindow: ((min: number, max: number) => void) | null = null;
  /** Called with a finished distance measurement, in mm. */
  onMeasure: ((mm: number) => void) | null = null;

  constructor(host: HTMLElement) {
    this.canvas = document.createElement("canvas");
    this.canvas.setAttribute("aria-label", "CT slices: axial, coronal and sagittal");
    host.append(this.canvas);
    // Radiological convention: the patient's right on the screen's left, as in every PACS.
    this.nv = new Niivue({ backColor: [0.055, 0.067, 0.086, 1], show3Dcrosshair: false, isResizeCanvas: true,
      crosshairColor: [1, 0.85, 0.2, 0.8], crosshairWidth: 1, isRadiologicalConvention: true, loadingText: "Loading slices…" });
  }

  async load(ctUrl: string, labelsUrl: string, preset: WindowPreset, colormap: LabelColormap, opacity: number): Promise<void> {
    await this.nv.attachToCanvas(this.canvas);
    this.nv.setSliceType(SLICE_TYPE.MULTIPLANAR);
    const [lo, hi] = windowRange(preset);
    // The artifact URLs have no extension, so the name tells NiiVue the format.
    await this.nv.loadVolumes([
      { url: ctUrl, name: "ct.nii.gz", colormap: "gray", cal_min: lo, cal_max: hi, trustCalMinMax: true },
      { url: labelsUrl, name: "labels.nii.gz", opacity },
    ]);
    this.setColormap(colormap);
    this.nv.onLocationChange = (raw: unknown) => {
      const at = raw as NiiVueLocation;
      const [ct, labels] = [at.values?.[0], at.values?.[1]];
      if (typeof labels?.value === "number") this.onLabel?.(Math.round(labels.value));
      if (ct && typeof ct.value === "number") {
        this.onLocation?.({ mm: Array.from(ct.mm).slice(0, 3), vox: Array.from(ct.vox), hu: ct.value,
          label: Math.round(labels?.value ?? 0) });
      }
    };
    // A window drag changes the CT's range silently: read it when the button is released.
    const reportWindow = (): void => {
      const volume = this.nv.volumes[0];
      if (volume) this.onWindow?.(volume.cal_min ?? 0, volume.cal_max ?? 0);
    };
    this.nv.onIntensityChange = reportWindow;
    this.nv.onMouseUp = reportWindow;
    this.nv.onMeasurementCompleted = (done: { distance: number }) => this.onMeasure?.(done.distance);
  }

  /** The CT's size in voxels (x, y, z). */
  dims(): number[] {
    return Array.from(this.nv.volumes[0]?.dims ?? [0, 0, 0, 0]).slice(1, 4);
  }

  setTool(tool: SliceTool): void {
    this.nv.opts.dragModePrimary = DRAG_MODES[tool];
  }

  clearMeasurements(): void {
    this.nv.clearMeasurements();
  }

  setWindow(preset: WindowPreset): void {
    const ct = this.nv.volumes[0];
    if (!ct) return;
    [ct.cal_min, ct.cal_max] = windowRange(preset);
    this.nv.updateGLVolume();
  }

  setColormap(colormap: LabelColormap): void {
    const labels = this.nv.volumes[1];
    if (!labels) return;
    labels.setColormapLabel(colormap);
    this.nv.updateGLVolume();
  }

  setOpacity(opacity: number): void {
    if (this.nv.volumes[1]) this.nv.setOpacity(1, opacity);
  }

  /** Put the crosshair (and so the three slices) at ``mm``, RAS+ millimetres. */
  moveTo(mm: [number, number, number]): void {
    if (!this.nv.volumes[0]) return;
    this.nv.scene.crosshairPos = this.nv.mm2frac(mm);
    this.nv.updateGLVolume();
  }

  crosshairMm(): number[] {
    return Array.from(this.nv.frac2mm(this.nv.scene.crosshairPos)).slice(0, 3);
  }

  /** Draw again, e.g. once the canvas is shown after being hidden. */
  redraw(): void {
    this.nv.resizeListener();
    this.nv.drawScene();
  }

  dispose(): void {
    this.nv.cleanup();
    const gl = this.nv.gl as WebGL2RenderingContext | null;
    gl?.getExtension("WEBGL_lose_context")?.loseContext();
    this.canvas.remove();
  }
}
