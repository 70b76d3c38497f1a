// Several charts in one SVG file: each chart (a standalone <svg> from renderSvg) is nested, one under the
// other, inside a single root, so a file written with --svg always holds exactly one SVG document.
export function stackSvgs(svgs: readonly string[]): string {
  let height = 0;
  let width = 0;
  const placed = svgs.map((svg) => {
    const head = /^<svg\b[^>]*>/.exec(svg.trimStart());
    if (!head) throw new Error("stackSvgs: not an <svg> element");
    const w = Number(/\swidth="([\d.]+)"/.exec(head[0])?.[1] ?? 0);
    const h = Number(/\sheight="([\d.]+)"/.exec(head[0])?.[1] ?? 0);
    const out = svg.trimStart().replace(/^<svg\b/, `<svg x="0" y="${height}"`);
    height += h;
    width = Math.max(width, w);
    return out;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${placed.join("")}</svg>`;
}
