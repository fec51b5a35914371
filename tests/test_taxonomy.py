import pytest

from slant import LabelError, taxonomy
from conftest import SHARED_DATA


def test_sizes_and_groups():
    assert (len(taxonomy.GENRES), len(taxonomy.FRAMES), len(taxonomy.TECHNIQUES)) == (3, 14, 23)
    assert len(taxonomy.GROUPS) == 6 and len(taxonomy.PTC_CLASSES) == 14
    grouped = [t for g in taxonomy.GROUPS for t in g.techniques]
    assert sorted(grouped) == sorted(taxonomy.TECHNIQUES)


@pytest.mark.parametrize("kind", ["genre", "frame", "technique"])
def test_every_label_has_a_definition_and_an_example(kind):
    for name in taxonomy.LABELS[kind]:
        e = taxonomy.entry(kind, name)
        assert len(e.definition) > 20 and e.definition.endswith(".")
        assert len(e.example) > 5


def test_ptc_mapping_both_ways():
    for c in taxonomy.PTC_CLASSES:
        for t in c.techniques:
            assert taxonomy.technique_to_ptc(t) == c.name
    assert taxonomy.ptc_to_techniques("Flag-Waving") == ("Flag_Waving",)
    unmapped = [t for t in taxonomy.TECHNIQUES if taxonomy.technique_to_ptc(t) is None]
    assert unmapped == ["Appeal_to_Values", "Consequential_Oversimplification", "Appeal_to_Time",
                        "Obfuscation-Vagueness-Confusion", "Questioning_the_Reputation"]


@pytest.mark.parametrize("call,error", [
    (lambda: taxonomy.entry("technique", "Loaded_language"), "unknown technique 'Loaded_language'"),
    (lambda: taxonomy.group_of("Bandwagon"), "unknown technique 'Bandwagon'"),
    (lambda: taxonomy.ptc_to_techniques("Flag_Waving"), "unknown PTC-2020 class 'Flag_Waving'"),
    (lambda: taxonomy.check_labels("frame", ["Political", "Politics"]), "unknown frame 'Politics'"),
    (lambda: taxonomy.records("colours"), "unknown label set 'colours'"),
])
def test_unknown_names_are_errors(call, error):
    with pytest.raises(LabelError, match=error):
        call()


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data not present")
@pytest.mark.parametrize("kind,path", [
    ("genre", "semeval2023/labels-subtask-1-genres.txt"),
    ("frame", "semeval2023/labels-subtask-2-frames.txt"),
    ("technique", "semeval2023/labels-subtask-3-techniques.txt"),
    ("ptc", "ptc2020/techniques.txt"),
])
def test_label_order_is_the_official_one(kind, path):
    official = [line.strip() for line in (SHARED_DATA / path).read_text(encoding="utf-8").splitlines() if line.strip()]
    ours = list(taxonomy.LABELS[kind])
    assert (ours if kind != "ptc" else sorted(ours)) == (official if kind != "ptc" else sorted(official))
