"""``slant report``: one self-contained HTML dashboard of a batch output, offline.

The figures come from DuckDB over the output's views; the charts are Vega-Lite
specs built with Altair and drawn by Vega, Vega-Lite and Vega-Embed, inlined in
the page from vl-convert's bundle — no CDN, no network (the page's
Content-Security-Policy forbids it).  Every chart links (click a mark) to the
example spans of its technique, or of its source, further down the page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from pathlib import Path

from .. import __version__, taxonomy
from ..errors import SlantError
from ..formats.html import GENERATOR_META
from ..formats.tsv import writable
from ..language import ENGLISH_ONLY
from ..render import counted, short_title
from ..report_html import safe_json
from .query import Selection, connect, narrow
from .store import Store

__all__ = ["write_dashboard", "dashboard_html", "dashboard_data"]

TOP_TECHNIQUES_OVER_TIME = 8
COOCCURRENCE_TECHNIQUES = 15
EXAMPLES_PER_SECTION = 6
EXAMPLES_PER_SOURCE = 2
NO_SOURCE = "(no source)"
OTHER = "(other sources)"


def pretty(name: str) -> str:
    """A label as people read it: "Loaded Language", "Attack on Reputation", "Security and defense"."""
    return name.replace("_", " ")


# the fields of the charts' records that hold label names (the links beside them keep the names themselves)
LABEL_FIELDS = ("technique", "a", "b", "group", "frame")


def anchor(kind: str, name: str) -> str:
    """The id of an examples section: "t-Loaded_Language", "s-<source slug>-<hash>" (the hash keeps
    sources that slug alike, "a b" and "a-b", apart)."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:60]
    if kind == "t":
        return f"t-{slug}"
    return f"s-{slug}-{hashlib.sha1(name.encode()).hexdigest()[:6]}"


def _rows(con, sql: str, *params) -> list[dict]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def dashboard_data(out: str | Path, top_sources: int = 15, selection: Selection | None = None) -> dict:
    """Every figure the dashboard shows, as plain lists of records: of the articles ``selection`` picks (default:
    all of them)."""
    selection = selection or Selection()
    con = connect(out)
    whole = narrow(con, selection)
    totals = _rows(con, """SELECT count(*) AS articles, count(DISTINCT source) AS sources, min(date) AS first,
                           max(date) AS last, count(date) AS dated, sum(spans) AS spans FROM articles""")[0]
    totals["errors"] = _rows(con, "SELECT count(*) AS n FROM errors")[0]["n"]
    totals["other_language"] = _rows(con, "SELECT count(*) AS n FROM errors WHERE ends_with(reason, ?)",
                                     ENGLISH_ONLY)[0]["n"]
    totals["duplicates"] = _rows(con, "SELECT count(*) AS n FROM duplicates")[0]["n"]
    totals.update(whole=whole, selection=str(selection))
    if not totals["articles"]:
        if whole:
            raise SlantError(f"{out}: none of its {counted(whole, 'analysed article')} matches {selection}, "
                             "nothing to chart")
        raise SlantError(f"{out}: no analysed articles yet, nothing to chart")
    # sources beyond the top N are pooled, so that per-source charts stay readable
    con.execute(f"""CREATE TEMP TABLE src AS
        WITH counted AS (SELECT coalesce(source, '{NO_SOURCE}') AS s, count(*) AS n FROM articles GROUP BY 1),
             ranked AS (SELECT s, n, row_number() OVER (ORDER BY n DESC, s) AS r FROM counted)
        SELECT s AS source, CASE WHEN r <= ? THEN s ELSE '{OTHER}' END AS label FROM ranked""", [top_sources])
    con.execute(f"""CREATE TEMP VIEW a AS SELECT articles.*, src.label AS src FROM articles
                    JOIN src ON src.source = coalesce(articles.source, '{NO_SOURCE}')""")
    n = totals["articles"]
    prevalence = _rows(con, """SELECT technique, count(*) AS articles, sum(spans) AS spans FROM techniques
                               GROUP BY 1 ORDER BY articles DESC, technique""")
    for r in prevalence:
        r.update(share=r["articles"] / n, group=taxonomy.group_of(r["technique"]), link="#" + anchor("t", r["technique"]))
    per_source = _rows(con, """WITH sizes AS (SELECT src, count(*) AS n FROM a GROUP BY 1)
        SELECT a.src AS source, t.technique, count(*) AS articles, any_value(sizes.n) AS source_articles
        FROM a, UNNEST(a.technique_stats) AS u(t) JOIN sizes ON sizes.src = a.src GROUP BY 1, 2""")
    for r in per_source:
        r.update(share=r["articles"] / r["source_articles"], link="#" + anchor("t", r["technique"]))
    sources = _rows(con, "SELECT src AS source, count(*) AS articles FROM a GROUP BY 1 ORDER BY 2 DESC, 1")
    genres = _rows(con, """SELECT src AS source, coalesce(genre, '(not assessed)') AS genre, count(*) AS articles
                           FROM a GROUP BY 1, 2""")
    # the share among the articles given frames: a text under 10 words gets none (frames NULL), not "no frame"
    frames = _rows(con, """WITH sizes AS (SELECT src, count(frames) AS n FROM a GROUP BY 1)
        SELECT a.src AS source, f AS frame, count(*) AS articles, any_value(sizes.n) AS source_articles
        FROM a, UNNEST(a.frames) AS u(f) JOIN sizes ON sizes.src = a.src GROUP BY 1, 2""")
    for r in genres + frames:
        r["link"] = "#" + anchor("s", r["source"])
    for r in frames:
        r["share"] = r["articles"] / r["source_articles"]
    top = [r["technique"] for r in prevalence[:COOCCURRENCE_TECHNIQUES]]
    cooccurrence = []
    if len(top) > 1:
        cooccurrence = _rows(con, """WITH t AS (SELECT key, technique FROM techniques WHERE list_contains(?, technique)),
                 sizes AS (SELECT technique, count(*) AS n FROM t GROUP BY 1)
            SELECT x.technique AS a, y.technique AS b, count(*) AS articles,
                   count(*) / (any_value(sa.n) + any_value(sb.n) - count(*)) AS jaccard
            FROM t x JOIN t y ON x.key = y.key AND x.technique <> y.technique
            JOIN sizes sa ON sa.technique = x.technique JOIN sizes sb ON sb.technique = y.technique
            GROUP BY 1, 2""", top)
        for r in cooccurrence:
            r["link"] = "#" + anchor("t", r["a"])
    over_time, unit = [], None
    if totals["dated"] and totals["first"] != totals["last"]:
        days = (totals["last"] - totals["first"]).days
        unit = "day" if days <= 45 else "week" if days <= 270 else "month"
        over_time = _rows(con, f"""WITH per AS (SELECT date_trunc('{unit}', date) AS period, count(*) AS n
                                                FROM articles WHERE date IS NOT NULL GROUP BY 1)
            SELECT date_trunc('{unit}', t.date) AS period, t.technique, count(*) AS articles, any_value(per.n) AS period_articles
            FROM techniques t JOIN per ON per.period = date_trunc('{unit}', t.date)
            WHERE t.date IS NOT NULL AND list_contains(?, t.technique) GROUP BY 1, 2 ORDER BY 1""",
                          [r["technique"] for r in prevalence[:TOP_TECHNIQUES_OVER_TIME]])
        for r in over_time:
            r.update(period=r["period"].isoformat() if isinstance(r["period"], (dt.date, dt.datetime)) else r["period"],
                     share=r["articles"] / r["period_articles"], link="#" + anchor("t", r["technique"]))
    examples_t = _rows(con, f"""WITH ranked AS (
            SELECT s.technique, s.text, s.before, s.after, s.score, a.id, a.title, a.src AS source, a.date, a.origin,
                   a.url,
                   row_number() OVER (PARTITION BY s.technique, a.src ORDER BY s.score DESC, a.id) AS per_source
            FROM spans s JOIN a ON a.key = s.key)
        SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY technique ORDER BY score DESC, id) AS r
                       FROM ranked WHERE per_source <= {EXAMPLES_PER_SOURCE})
        WHERE r <= {EXAMPLES_PER_SECTION} ORDER BY technique, r""")
    examples_s = _rows(con, f"""WITH ranked AS (
            SELECT s.technique, s.text, s.before, s.after, s.score, a.id, a.title, a.src AS source, a.date, a.origin,
                   a.url,
                   row_number() OVER (PARTITION BY a.src, s.technique ORDER BY s.score DESC, a.id) AS per_technique
            FROM spans s JOIN a ON a.key = s.key)
        SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY source ORDER BY score DESC, id) AS r
                       FROM ranked WHERE per_technique = 1)
        WHERE r <= {EXAMPLES_PER_SECTION} ORDER BY source, r""")
    return {"totals": totals, "prevalence": prevalence, "per_source": per_source, "sources": sources,
            "genres": genres, "frames": frames, "cooccurrence": cooccurrence, "over_time": over_time,
            "time_unit": unit, "examples_by_technique": examples_t, "examples_by_source": examples_s,
            "model": Store.read(out).manifest.get("model", {})}


# -- charts -------------------------------------------------------------------
def _charts(d: dict) -> dict[str, dict]:
    import altair as alt

    def shown(key: str, value):
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        return pretty(value) if key in LABEL_FIELDS and isinstance(value, str) else value

    def values(rows: list[dict]) -> alt.Data:
        return alt.Data(values=[{k: shown(k, v) for k, v in r.items()} for r in rows])

    technique_order = [pretty(r["technique"]) for r in d["prevalence"]]
    source_order = [r["source"] for r in d["sources"]]
    groups = [pretty(g.name) for g in taxonomy.GROUPS]
    width = 640
    charts = {}
    charts["prevalence"] = alt.Chart(values(d["prevalence"])).mark_bar().encode(
        x=alt.X("share:Q", title="share of articles", axis=alt.Axis(format="%")),
        y=alt.Y("technique:N", sort=technique_order, title=None),
        color=alt.Color("group:N", title="group", scale=alt.Scale(domain=groups)),
        href="link:N",
        tooltip=[alt.Tooltip("technique:N"), alt.Tooltip("articles:Q", title="articles"),
                 alt.Tooltip("share:Q", format=".1%"), alt.Tooltip("spans:Q", title="spans")],
    ).properties(width=width)
    charts["per_source"] = alt.Chart(values(d["per_source"])).mark_rect().encode(
        x=alt.X("technique:N", sort=technique_order, title=None, axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("source:N", sort=source_order, title=None), href="link:N",
        color=alt.Color("share:Q", title="share of the source's articles", scale=alt.Scale(scheme="oranges"),
                        legend=alt.Legend(format="%")),
        tooltip=[alt.Tooltip("source:N"), alt.Tooltip("technique:N"), alt.Tooltip("articles:Q"),
                 alt.Tooltip("source_articles:Q", title="articles of the source"), alt.Tooltip("share:Q", format=".1%")],
    ).properties(width=alt.Step(30), height=alt.Step(22))
    if d["cooccurrence"]:
        order = technique_order[:COOCCURRENCE_TECHNIQUES]
        charts["cooccurrence"] = alt.Chart(values(d["cooccurrence"])).mark_rect().encode(
            x=alt.X("a:N", sort=order, title=None, axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("b:N", sort=order, title=None),
            color=alt.Color("jaccard:Q", title="Jaccard", scale=alt.Scale(scheme="purples")),
            href="link:N",
            tooltip=[alt.Tooltip("a:N", title="technique"), alt.Tooltip("b:N", title="with"),
                     alt.Tooltip("articles:Q", title="articles with both"), alt.Tooltip("jaccard:Q", format=".2f")],
        )
    if d["over_time"]:
        charts["over_time"] = alt.Chart(values(d["over_time"])).mark_line(point=True).encode(
            x=alt.X("period:T", title=d["time_unit"]),
            y=alt.Y("share:Q", title="share of articles", axis=alt.Axis(format="%")),
            color=alt.Color("technique:N", sort=technique_order), href="link:N",
            tooltip=[alt.Tooltip("period:T"), alt.Tooltip("technique:N"), alt.Tooltip("articles:Q"),
                     alt.Tooltip("period_articles:Q", title="articles that period"),
                     alt.Tooltip("share:Q", format=".1%")],
        ).properties(width=width)
    charts["genres"] = alt.Chart(values(d["genres"])).mark_bar().encode(
        x=alt.X("articles:Q", stack="normalize", title="share of the source's articles", axis=alt.Axis(format="%")),
        y=alt.Y("source:N", sort=source_order, title=None),
        color=alt.Color("genre:N", title="genre"), href="link:N",
        tooltip=[alt.Tooltip("source:N"), alt.Tooltip("genre:N"), alt.Tooltip("articles:Q")],
    ).properties(width=width)
    if d["frames"]:
        charts["frames"] = alt.Chart(values(d["frames"])).mark_rect().encode(
            x=alt.X("frame:N", title=None, axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("source:N", sort=source_order, title=None),
            color=alt.Color("share:Q", title="share of the source's articles", scale=alt.Scale(scheme="blues"),
                            legend=alt.Legend(format="%")),
            href="link:N",
            tooltip=[alt.Tooltip("source:N"), alt.Tooltip("frame:N"), alt.Tooltip("articles:Q"),
                     alt.Tooltip("share:Q", format=".1%")],
        )
    return {name: chart.to_dict() for name, chart in charts.items()}


SECTIONS = (
    ("prevalence", "Techniques across the corpus",
     "Share of articles in which each technique was found. Click a bar for example passages."),
    ("per_source", "Techniques per source",
     "Share of each source's articles using each technique. Click a cell for example passages."),
    ("over_time", "Techniques over time",
     "Share of the articles of each period using the most common techniques. Click a point for examples."),
    ("cooccurrence", "Which techniques travel together",
     "Colour: Jaccard overlap of the articles using both techniques (tooltip: how many). Click a cell for examples."),
    ("genres", "Genre mix per source", "Opinion, reporting and satire per source. Click a bar for the source's passages."),
    ("frames", "Frame mix per source",
     "Share of each source's articles using each frame (of those long enough to tell: 10 words or more). "
     "Click a cell for the source's passages."),
)


# -- page ---------------------------------------------------------------------
def _examples(rows: list[dict], kind: str, key: str, heading) -> str:
    parts, current = [], None
    for r in rows:
        if r[key] != current:
            if current is not None:
                parts.append("</ol></section>")
            current = r[key]
            parts.append(f'<section class="examples" id="{html.escape(anchor(kind, current))}">'
                         f"<h3>{heading(current)}</h3><ol>")
        where = " · ".join(html.escape(str(x)) for x in (r["source"], r["date"], r["id"]) if x)
        if re.match(r"https?://", r.get("url") or "", re.IGNORECASE):   # the article it came from, a click away
            where += (f' · <a href="{html.escape(r["url"])}" target="_blank" rel="noopener noreferrer">'
                      "the article</a>")
        tag = html.escape(pretty(r["technique"])) if kind == "s" else ""
        parts.append(f'<li><blockquote>{html.escape(r["before"] or "")}<mark>{html.escape(r["text"])}</mark>'
                     f'{html.escape(r["after"] or "")}</blockquote>'
                     f'<div class="meta">{tag + " · " if tag else ""}score {r["score"]:.2f} · {where}'
                     f'{" — " + html.escape(short_title(r["title"])) if r.get("title") else ""}</div></li>')
    if current is not None:
        parts.append("</ol></section>")
    return "\n".join(parts)


def dashboard_html(d: dict, bundle: str) -> str:
    specs = _charts(d)
    t = d["totals"]
    dates = f"{t['first']} to {t['last']} ({t['dated']:,} dated)" if t["dated"] else "no dates"
    other = f" ({t['other_language']:,} in another language)" if t["other_language"] else ""
    chosen = f"{t['articles']:,} of {counted(t['whole'], 'article')} ({t['selection']})" if t["selection"] \
        else counted(t["articles"], "article")
    facts = (f"{chosen} · {counted(t['sources'], 'source')} · "
             f"{counted(int(t['spans'] or 0), 'span')} · {dates} · {counted(t['errors'], 'input')} not analysed{other} · "
             f"{counted(t['duplicates'], 'duplicate')}{' in the whole output' if t['selection'] else ''}")
    sections = []
    for name, title, text in SECTIONS:
        if name in specs:
            sections.append(f'<section class="chart-section"><h2>{title}</h2><p>{text}</p>'
                            f'<div class="chart" id="chart-{name}" data-chart="{name}"></div></section>')
    by_technique = _examples(d["examples_by_technique"], "t", "technique", lambda n: html.escape(pretty(n)))
    by_source = _examples(d["examples_by_source"], "s", "source", lambda n: html.escape(n))
    model = d["model"]
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{GENERATOR_META}
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline' 'unsafe-eval'; img-src data: blob:">
<title>slant dashboard{html.escape(" · " + t["selection"]) if t["selection"] else ""}</title>
<style>
body {{ font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1rem 1.5rem; color: #222; }}
h1 {{ margin-bottom: .2rem; }} .facts {{ color: #555; margin-top: 0; }}
.chart-section {{ margin: 2rem 0; }} .chart {{ overflow-x: auto; }}
.examples ol {{ padding-left: 1.2rem; }} .examples li {{ margin: .6rem 0; }}
mark {{ background: #fde3c4; padding: 0 .1rem; }}
blockquote {{ margin: 0; padding: .2rem .6rem; border-left: 3px solid #d9822b; background: #fbf6ef; }}
.meta {{ color: #666; font-size: 13px; }} .examples:target {{ outline: 2px solid #d9822b; outline-offset: 6px; }}
footer {{ color: #777; font-size: 13px; margin-top: 3rem; }}
</style>
</head>
<body>
<h1>slant dashboard</h1>
<p class="facts">{html.escape(facts)}</p>
{"".join(sections)}
<h2 id="examples">Example passages by technique</h2>
{by_technique}
<h2 id="sources">Example passages by source</h2>
{by_source}
<footer>slant {html.escape(__version__)} · model {html.escape(str(model.get("name", "?")))}
({html.escape(str(model.get("sha256", ""))[:12])}) · scores are the model's probabilities, not certainties.</footer>
<script type="application/json" id="specs">{safe_json(specs)}</script>
<script type="module">
{bundle}
</script>
<script type="module">
const specs = JSON.parse(document.getElementById("specs").textContent);
const opts = {{actions: {{export: true, source: false, compiled: false, editor: false}}, renderer: "svg",
              loader: {{target: "_self"}}}};
for (const el of document.querySelectorAll("[data-chart]")) {{
  vegaEmbed(el, specs[el.dataset.chart], opts).then(() => el.dataset.rendered = "1")
    .catch(err => {{ el.textContent = "chart failed: " + err; console.error(err); }});
}}
</script>
</body>
</html>
"""


def _bundle() -> str:
    import altair as alt
    import vl_convert as vlc

    version = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    try:
        return vlc.javascript_bundle(vl_version=version)
    except Exception:  # this vl-convert does not know Altair's version: its newest works with older specs
        return vlc.javascript_bundle()


def write_dashboard(out: str | Path, output: str | Path, top_sources: int = 15,
                    selection: Selection | None = None) -> Path:
    output = writable(output)   # as every writer: a folder or a missing folder is refused before any work
    page = dashboard_html(dashboard_data(out, top_sources, selection), _bundle().replace("</script", "<\\/script"))
    try:
        output.write_text(page, encoding="utf-8")
    except OSError as ex:
        raise SlantError(f"{output}: cannot write ({ex.strerror or ex})") from None
    return output
