// Linked views: when one moves, the others take its pose. Setting a pose may report a change
// straight back (three.js's OrbitControls does); the guard keeps that from echoing for ever.

export interface Linkable<P> {
  pose(): P;
  setPose(pose: P): void;
}

/** Call the returned function with the index of the view that moved. */
export function linkViews<P>(views: Linkable<P>[]): (moved: number) => void {
  let syncing = false;
  return (moved: number): void => {
    if (syncing) return;
    const source = views[moved];
    if (!source) return;
    syncing = true;
    try {
      const pose = source.pose();
      views.forEach((v, i) => { if (i !== moved) v.setPose(pose); });
    } finally {
      syncing = false;
    }
  };
}
