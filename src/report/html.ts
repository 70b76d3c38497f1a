// The decision document as one self-contained HTML page: the Markdown content plus two SVG charts.
import type { Decision } from "../decide/decision.js";
import { costChart, vramChart } from "./charts.js";
import { renderMarkdown } from "./markdown.js";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Minimal Markdown to HTML for the subset renderMarkdown writes: headings, tables, lists, bold, code. */
export function markdownToHtml(md: string): string {
  const inline = (s: string) => esc(s).replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>").replace(/`([^`]+)`/g, "<code>$1</code>");
  const lines = md.split("\n");
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const l = lines[i]!;
    if (l.startsWith("#")) {
      const level = l.match(/^#+/)![0].length;
      out.push(`<h${level}>${inline(l.slice(level).trim())}</h${level}>`);
    } else if (l.startsWith("| ")) {
      const rows: string[][] = [];
      while (i < lines.length && lines[i]!.startsWith("|")) {
        if (!/^\|(-+\|)+$/.test(lines[i]!)) rows.push(lines[i]!.slice(2, -2).split(/(?<!\\) \| /).map((c) => c.replace(/\\\|/g, "|")));
        i++;
      }
      const [head, ...body] = rows;
      out.push(`<table><thead><tr>${head!.map((c) => `<th>${inline(c)}</th>`).join("")}</tr></thead><tbody>${body.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join("")}</tr>`).join("")}</tbody></table>`);
      continue;
    } else if (l.startsWith("- ")) {
      const items: string[] = [];
      while (i < lines.length && lines[i]!.startsWith("- ")) items.push(`<li>${inline(lines[i++]!.slice(2))}</li>`);
      out.push(`<ul>${items.join("")}</ul>`);
      continue;
    } else if (l.trim()) out.push(`<p>${inline(l)}</p>`);
    i++;
  }
  return out.join("\n");
}

export function renderHtml(d: Decision): string {
  const body = markdownToHtml(renderMarkdown(d));
  const charts = `<section class="charts"><h2>Charts</h2>${vramChart(d)}\n${costChart(d)}</section>`;
  // charts go right after the recommendation line (the first <p><strong>)
  const at = body.indexOf("<h2>");
  const html = at >= 0 ? `${body.slice(0, at)}${charts}\n${body.slice(at)}` : `${body}${charts}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(`Hardware decision: ${d.plan}`)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#111}table{border-collapse:collapse;margin:1em 0;font-size:14px}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f3f4f6}svg{width:100%;height:auto;margin:1em 0;border:1px solid #eee}code{background:#f3f4f6;padding:0 3px}</style>
</head><body>
${html}
</body></html>
`;
}
