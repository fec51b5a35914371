// The slant report: renders a Document (schema slant.document/1) with its taxonomy into a container.
// Every piece of article text reaches the page through textContent, never as markup.
"use strict";

// The word counts under which the analysis gives no genre, and no frames (slant.article_heads: GENRE_MIN_WORDS,
// FRAMES_MIN_WORDS), counted as its word_count counts: runs of letters, digits and underscores.
const SLANT_GENRE_MIN_WORDS = 100;
const SLANT_FRAMES_MIN_WORDS = 10;
const slantWords = (text) => (text.match(/[\p{L}\p{N}_]+/gu) || []).length;

// The heading: the document's title cut after a whole word to this many characters, "…" included, as the text
// report cuts it (slant.render.heading, HEADING_CHARS): a pasted quote's title is its whole text.
const SLANT_HEADING_CHARS = 120;
function slantHeading(title) {
  const text = title.split(/\s+/).filter(Boolean).join(" ");
  if (text.length <= SLANT_HEADING_CHARS) return text;
  let cut = text.slice(0, SLANT_HEADING_CHARS - 1);
  const space = cut.lastIndexOf(" ");
  if (space > SLANT_HEADING_CHARS / 2 && text[SLANT_HEADING_CHARS - 1] !== " ") cut = cut.slice(0, space);
  return cut.replace(/[ ,;:]+$/, "") + "…";
}

// Per paragraph (by index), the spans that overlap it, in the spans' order. Paragraphs are in text order, so
// their starts and ends increase: each span finds its first paragraph by bisection (a filter of every span for
// every paragraph froze the page on a text of many thousand lines).
function slantSpansByParagraph(paragraphs, spans) {
  const lists = paragraphs.map(() => []);
  for (const s of spans) {
    let lo = 0, hi = paragraphs.length;   // the first paragraph ending after the span starts
    while (lo < hi) { const mid = (lo + hi) >> 1; if (paragraphs[mid].end <= s.start) lo = mid + 1; else hi = mid; }
    for (let i = lo; i < paragraphs.length && paragraphs[i].start < s.end; i++) lists[i].push(s);
  }
  return lists;
}

// Whether the first paragraph is the title line slant read the text under (slant.runtime.Detector.heading): the
// text has more paragraphs, and no title given beside it (a title the first line does not hold). A text of one
// paragraph is read as body text under a made-up title line, and is not shown as a title.
const slantNorm = (text) => text.split(/\s+/).filter(Boolean).join(" ").toLowerCase();
function slantFirstIsTitle(doc) {
  if (doc.paragraphs.length < 2) return false;
  const first = doc.paragraphs[0];
  return !doc.title || slantNorm(doc.text.slice(first.start, first.end)).includes(slantNorm(doc.title));
}

const SLANT_COLOURS = {
  Attack_on_Reputation: "#e4572e", Justification: "#f3a712", Simplification: "#29335c",
  Distraction: "#7d5ba6", Call: "#17a398", Manipulative_Wording: "#2a7de1",
};

function slantEl(tag, attrs, text) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  if (text !== undefined && text !== null) el.textContent = String(text);
  return el;
}

function slantTint(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

function slantRender(container, doc, taxonomy) {
  const techniques = {};
  for (const t of taxonomy.techniques) techniques[t.name] = t;
  const colourOf = (name) => SLANT_COLOURS[(techniques[name] || {}).group] || "#888888";
  const state = { threshold: 0, hidden: new Set(), selected: null };
  container.textContent = "";

  const layout = slantEl("main", { class: "layout" });
  const left = slantEl("section", { class: "report" });
  const panel = slantEl("aside", { class: "panel" });
  layout.append(left, panel);
  container.append(layout);

  // Header: title, source, genre and frames first.
  left.append(slantEl("h1", { class: "title" }, slantHeading(doc.title || doc.id)));
  // where it came from: its address a link to the article (an http(s) one only: a Document's url is data), or its
  // source; and its date
  const meta = slantEl("div", { class: "meta" });
  if (/^https?:\/\//i.test(doc.url || "")) {
    meta.append(slantEl("a", { href: doc.url, target: "_blank", rel: "noopener noreferrer" }, doc.url));
  } else {
    meta.append(doc.url || doc.source || doc.id);
  }
  if (doc.date) meta.append(" · " + doc.date);
  left.append(meta);
  const summary = slantEl("div", { class: "summary", id: "summary" });
  const words = doc.techniques ? slantWords(doc.text) : null;  // analysed: was it too short for genre or frames?
  if (doc.genre) {
    summary.append(slantEl("span", { class: "chip genre", id: "genre" },
      `${doc.genre.label} ${Math.round(doc.genre.score * 100)}%`));
  } else if (words !== null && words < SLANT_GENRE_MIN_WORDS) {
    summary.append(slantEl("span", { class: "chip genre", id: "genre" }, "genre: text too short"));
  }
  for (const f of doc.frames || []) {
    summary.append(slantEl("span", { class: "chip frame" }, `${f.label.replace(/_/g, " ")} ${f.score.toFixed(2)}`));
  }
  if (doc.frames && !doc.frames.length) summary.append(slantEl("span", { class: "chip" }, "no frame above threshold"));
  if (!doc.frames && words !== null && words < SLANT_FRAMES_MIN_WORDS) {
    summary.append(slantEl("span", { class: "chip", id: "frames" }, "frames: text too short"));
  }
  left.append(summary);
  const article = slantEl("div", { class: "article", id: "article" });
  left.append(article);

  // Side panel: filters, techniques by frequency, legend, details of the clicked span.
  panel.append(slantEl("h2", {}, "Show spans scoring at least"));
  const controls = slantEl("div", { class: "controls" });
  const slider = slantEl("input", { type: "range", min: "0", max: "1", step: "0.05", value: "0", id: "threshold" });
  const shown = slantEl("span", { id: "threshold-value" }, "0.00");
  controls.append(slider, shown);
  panel.append(controls);

  const counts = {};
  for (const s of doc.spans) counts[s.technique] = (counts[s.technique] || 0) + 1;
  for (const p of doc.techniques || []) for (const l of p.labels) counts[l.label] = counts[l.label] || 0;
  const paragraphsWith = {};
  for (const p of doc.techniques || []) for (const l of p.labels) paragraphsWith[l.label] = (paragraphsWith[l.label] || 0) + 1;
  const order = Object.keys(paragraphsWith).sort((a, b) =>
    (paragraphsWith[b] - paragraphsWith[a]) || (counts[b] - counts[a]) || a.localeCompare(b));
  panel.append(slantEl("h2", {}, "Techniques (paragraphs · spans)"));
  const list = slantEl("div", { class: "tech-list", id: "techniques" });
  if (!order.length) list.append(slantEl("div", { class: "empty" }, doc.techniques ? "none found" : "not analysed"));
  for (const name of order) {
    const label = slantEl("label", { title: (techniques[name] || {}).definition || "" });
    const box = slantEl("input", { type: "checkbox", "data-technique": name });
    box.checked = true;
    box.addEventListener("change", () => {
      if (box.checked) state.hidden.delete(name); else state.hidden.add(name);
      paint();
    });
    const sw = slantEl("span", { class: "swatch" });
    sw.style.background = colourOf(name);
    label.append(box, sw, slantEl("span", {}, name.replace(/_/g, " ")),
      slantEl("span", { class: "count" }, `${paragraphsWith[name]} · ${counts[name] || 0}`));
    list.append(label);
  }
  panel.append(list);

  panel.append(slantEl("h2", {}, "Selected span"));
  const detail = slantEl("div", { class: "detail", id: "detail" });
  detail.append(slantEl("span", { class: "empty" }, "Click a highlighted passage."));
  panel.append(detail);

  panel.append(slantEl("h2", {}, "Legend"));
  const legend = slantEl("div", { class: "legend" });
  for (const g of taxonomy.groups) {
    const row = slantEl("div", { title: g.definition });
    const sw = slantEl("span", { class: "swatch" });
    sw.style.background = SLANT_COLOURS[g.name] || "#888888";
    row.append(sw, slantEl("span", {}, g.name.replace(/_/g, " ")));
    legend.append(row);
  }
  legend.append(slantEl("div", { class: "empty" }, "Underlined: several techniques overlap."));
  panel.append(legend);

  slider.addEventListener("input", () => {
    state.threshold = parseFloat(slider.value);
    shown.textContent = state.threshold.toFixed(2);
    paint();
  });

  function showDetail(spans) {
    detail.textContent = "";
    for (const s of spans) {
      const t = techniques[s.technique] || {};
      const item = slantEl("div", { class: "item" });
      item.append(slantEl("div", { class: "name" }, `${s.technique.replace(/_/g, " ")} — ${s.score.toFixed(2)}`));
      item.append(slantEl("div", { class: "group" }, (t.group || "").replace(/_/g, " ")));
      item.append(slantEl("div", { class: "def" }, t.definition || ""));
      if (t.example) item.append(slantEl("div", { class: "example" }, `e.g. “${t.example}”`));
      item.append(slantEl("div", { class: "quote" }, `«${s.text}»`));
      detail.append(item);
    }
  }

  function visible(s) { return s.score >= state.threshold && !state.hidden.has(s.technique); }

  function paint() {
    article.textContent = "";
    const byParagraph = {};
    for (const p of doc.techniques || []) byParagraph[p.paragraph] = p.labels;
    const spans = doc.spans.filter(visible);
    const firstIsTitle = slantFirstIsTitle(doc);
    const overlapping = slantSpansByParagraph(doc.paragraphs, spans);
    doc.paragraphs.forEach((p, index) => {
      const titleLine = p.number === 1 && firstIsTitle;
      const para = slantEl("p", { "data-paragraph": p.number, class: titleLine ? "title-line" : "" });
      // Cut the paragraph at every span boundary; each piece knows all spans covering it.
      const inside = overlapping[index];
      const cuts = new Set([p.start, p.end]);
      for (const s of inside) { cuts.add(Math.max(s.start, p.start)); cuts.add(Math.min(s.end, p.end)); }
      const points = [...cuts].sort((a, b) => a - b);
      for (let i = 0; i + 1 < points.length; i++) {
        const [a, b] = [points[i], points[i + 1]];
        const text = doc.text.slice(a, b);
        const covering = inside.filter((s) => s.start <= a && s.end >= b).sort((x, y) => y.score - x.score);
        if (!covering.length) { para.append(document.createTextNode(text)); continue; }
        const mark = slantEl("mark", { class: covering.length > 1 ? "hl multi" : "hl", tabindex: "0",
          "data-techniques": covering.map((s) => s.technique).join(" "),
          title: covering.map((s) => `${s.technique} ${s.score.toFixed(2)}`).join("\n") }, text);
        mark.style.background = slantTint(colourOf(covering[0].technique), 0.28);
        const select = () => {
          for (const m of article.querySelectorAll("mark.selected")) m.classList.remove("selected");
          mark.classList.add("selected");
          showDetail(covering);
        };
        mark.addEventListener("click", select);
        mark.addEventListener("keydown", (event) => {   // reached with Tab: Enter or Space opens it, as a click does
          if (event.key === "Enter" || event.key === " ") { event.preventDefault(); select(); }
        });
        para.append(mark);
      }
      article.append(para);
      const labels = (byParagraph[p.number] || []).filter((l) => l.score >= state.threshold && !state.hidden.has(l.label));
      if (labels.length) {
        const badges = slantEl("div", { class: "badges" });
        for (const l of labels) {
          const b = slantEl("span", { class: "badge", title: (techniques[l.label] || {}).definition || "" },
            `${l.label.replace(/_/g, " ")} ${l.score.toFixed(2)}`);
          b.style.background = colourOf(l.label);
          badges.append(b);
        }
        article.append(badges);
      }
    });
  }
  paint();
}
