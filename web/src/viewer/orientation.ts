// The orientation cube (R/L/A/P/S/I): plain CSS 3D turned with the camera, so it costs no second
// WebGL context; clicking a face looks at the patient from that side.
import { Matrix4, type Camera } from "three";
import { h } from "../ui/dom";
import type { StandardView } from "./scene";

// CSS has y pointing down: conjugating by this flip carries the camera's rotation into CSS.
const FLIP_Y = new Matrix4().makeScale(1, -1, 1);

const FACES: [string, string, StandardView | null, string][] = [
  ["A", "Anterior", "anterior", "translateZ(var(--half))"],
  ["P", "Posterior", "posterior", "rotateY(180deg) translateZ(var(--half))"],
  ["L", "Left", "left", "rotateY(90deg) translateZ(var(--half))"],
  ["R", "Right", "right", "rotateY(-90deg) translateZ(var(--half))"],
  ["S", "Superior", "superior", "rotateX(90deg) translateZ(var(--half))"],
  ["I", "Inferior", "inferior", "rotateX(-90deg) translateZ(var(--half))"],
];

export function orientationCube(onView: (v: StandardView) => void): {
  element: HTMLElement; update: (camera: Camera) => void;
} {
  const cube = h("div", { class: "cube" }, ...FACES.map(([letter, label, view, transform]) => {
    const face = h("button", { type: "button", class: "face", style: `transform:${transform}`,
      title: `${label} view`, "aria-label": `${label} view`, tabindex: -1 }, letter);
    if (view) face.addEventListener("click", () => onView(view));
    return face;
  }));
  const element = h("div", { class: "orientation", "aria-hidden": "true" }, cube);
  const m = new Matrix4();
  return {
    element,
    update(camera: Camera): void {
      m.extractRotation(camera.matrixWorldInverse).premultiply(FLIP_Y).multiply(FLIP_Y);
      cube.style.transform = `matrix3d(${m.elements.map((v) => v.toFixed(6)).join(",")})`;
    },
  };
}
