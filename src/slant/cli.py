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
@click.option("--gold", required=True, type=click.Path(path_type=Path), help="Gold label file.")
@click.option("--pred", required=True, type=click.Path(path_type=Path), help="Prediction file, same format.")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
def evaluate_cmd(subtask: str | None, ptc: str | None, gold: Path, pred: Path, as_json: bool) -> None:
    """Score a prediction file with the official metric: macro-F1 for subtask 1,
    micro-F1 for subtasks 2 and 3, span-overlap F1 for PTC SI, micro-F1 for PTC TC.
    Prints micro and macro figures and P/R/F1 per label."""
    if (subtask is None) == (ptc is None):
        raise click.UsageError("give exactly one of --subtask {1,2,3} or --ptc {si,tc}")
    scores = evaluate_files(subtask or ptc, gold, pred)
    click.echo(json.dumps(scores.to_dict(), indent=2) if as_json else scores.format())


def main() -> None:
    cli(prog_name="slant")


if __name__ == "__main__":
    main()
