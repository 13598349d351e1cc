"""The scenario graph speaks the reader's language: validation issues, block summaries and the
shared wording helpers are French inside ``speaking("fr")`` and the same English as ever
outside it (the API and the worker have an English speaker)."""

from __future__ import annotations

from typing import Any

import pytest

from app.graph import Issue, IssueCode, KnownRefs, check_draft, parse_document
from app.graph.condition_limits import condition_limit_problems
from app.graph.conditions import describe_condition, parse_condition
from app.graph.structure import structure_problems
from app.graph.wording import format_duration, one_of, plural, quote, yes_no
from app.i18n import speaking
from tests.unit.graph.builders import after_trigger, link, node, scenario, trigger

KNOWN = KnownRefs(
    messages={"welcome": "email", "promo-sms": "sms"},
    lists=frozenset({"newsletter"}),
    segments=frozenset({"active"}),
)


def messages(raw: dict[str, Any], known: KnownRefs | None = KNOWN) -> list[tuple[IssueCode, str]]:
    _, issues = check_draft(raw, known)
    return [(issue.code, issue.message) for issue in issues]


def broken() -> dict[str, Any]:
    """One document with a bit of everything wrong."""
    ask = node("ask", "condition", "if", **{"if": {"list": "vip", "op": "member"}})
    return scenario(
        [
            trigger(),
            node("wait-1", "delay", "wait"),
            ask,
            node("mail", "action", "send_email", message="promo-sms"),
            node("lost", "action", "exit"),
            node("a", "delay", "wait", seconds=60),
            node("b", "delay", "wait", seconds=60),
        ],
        [
            link("start", "wait-1"),
            link("wait-1", "ask"),
            link("ask", "mail", "yes"),
            link("a", "b"),
            link("b", "a"),
        ],
    )


FRENCH = [
    (IssueCode.missing_config, "Le bloc « wait-1 » : indiquez la durée d’attente"),
    (IssueCode.unknown_list, "Le bloc « ask » : la liste « vip » n’existe pas"),
    (
        IssueCode.wrong_channel,
        "Le bloc « mail » : « promo-sms » est un modèle de SMS ; ce bloc envoie un e-mail",
    ),
    (
        IssueCode.unreachable,
        "Le bloc « lost » n’est accessible depuis aucun déclencheur : aucun contact n’y arrivera"
        " jamais",
    ),
    (
        IssueCode.unreachable,
        "Le bloc « a » n’est accessible depuis aucun déclencheur : aucun contact n’y arrivera"
        " jamais",
    ),
    (
        IssueCode.unreachable,
        "Le bloc « b » n’est accessible depuis aucun déclencheur : aucun contact n’y arrivera"
        " jamais",
    ),
    (
        IssueCode.cycle,
        "Les blocs « a », « b » forment une boucle ; un parcours ne peut pas tourner en boucle",
    ),
    (
        IssueCode.port_unwired,
        "Le bloc « ask » : rien n’est relié à la sortie NON, le parcours s’arrête donc ici pour"
        " les contacts qui répondent NON",
    ),
]
ENGLISH = [
    (IssueCode.missing_config, "Block 'wait-1': set how long to wait"),
    (IssueCode.unknown_list, "Block 'ask': there is no list 'vip'"),
    (
        IssueCode.wrong_channel,
        "Block 'mail': 'promo-sms' is an SMS template; this block sends an email",
    ),
    (
        IssueCode.unreachable,
        "Block 'lost' can't be reached from any trigger, so no contact will ever get there",
    ),
    (
        IssueCode.unreachable,
        "Block 'a' can't be reached from any trigger, so no contact will ever get there",
    ),
    (
        IssueCode.unreachable,
        "Block 'b' can't be reached from any trigger, so no contact will ever get there",
    ),
    (IssueCode.cycle, "Blocks 'a', 'b' lead back to each other; a journey can't loop"),
    (
        IssueCode.port_unwired,
        "Block 'ask': nothing is linked to the NO output, so the journey ends here for contacts"
        " who answer NO",
    ),
]


def test_a_broken_scenario_is_explained_in_french() -> None:
    with speaking("fr"):
        assert messages(broken()) == FRENCH


def test_the_same_scenario_is_explained_in_english_without_a_speaker() -> None:
    assert messages(broken()) == ENGLISH
    with speaking("en"):
        assert messages(broken()) == ENGLISH


def test_a_scenario_without_a_trigger_in_french() -> None:
    raw = scenario([node("mail", "action", "send_email", message="welcome")], [])
    with speaking("fr"):
        assert messages(raw) == [
            (
                IssueCode.no_trigger,
                "Le scénario n’a pas de déclencheur : ajoutez-en un pour indiquer quand les"
                " contacts y entrent",
            )
        ]
    assert messages(raw) == [
        (IssueCode.no_trigger, "The scenario has no trigger: add one to say when contacts enter")
    ]


@pytest.mark.parametrize(
    ("raw", "french", "english"),
    [
        (
            after_trigger(node("w", "delay", "wait", seconds="soon")),
            "Le bloc « w » : « seconds » doit être un nombre entier",
            "Block 'w': 'seconds' must be a whole number",
        ),
        (
            after_trigger(node("w", "delay", "wait", seconds=60, colour="red")),
            "Le bloc « w » : « colour » n’est pas un paramètre connu",
            "Block 'w': 'colour' is not a known setting",
        ),
        (
            after_trigger(node("pause", "delay", "nap")),
            "Le bloc « pause » : 'nap' n’existe pas pour le type delay ; valeurs possibles :"
            " wait, wait_until, wait_for_event, wait_for_condition",
            "Block 'pause': 'nap' is not a kind of delay; expected one of wait, wait_until,"
            " wait_for_event, wait_for_condition",
        ),
    ],
)
def test_what_the_parser_drops_is_said_in_french(raw: Any, french: str, english: str) -> None:
    with speaking("fr"):
        _, issues = parse_document(raw)
        assert [issue.message for issue in issues] == [french]
    _, issues = parse_document(raw)
    assert [issue.message for issue in issues] == [english]


def test_a_block_linked_to_itself_in_french() -> None:
    mail = node("mail", "action", "send_email", message="welcome")
    raw = scenario([trigger(), mail], [link("start", "mail"), link("mail", "mail")])
    with speaking("fr"):
        assert [message for _, message in messages(raw)] == [
            "Le bloc « mail » est relié à lui-même ; un parcours ne peut pas tourner en boucle"
        ]
    assert [message for _, message in messages(raw)] == [
        "Block 'mail' is linked to itself; a journey can't loop"
    ]


def test_an_unwired_wait_for_event_and_a_lonely_trigger_in_french() -> None:
    wait = node("w", "delay", "wait_for_event", event="purchase", timeout_seconds=3600)
    raw = scenario([trigger(), wait, trigger("lonely")], [link("start", "w")])
    with speaking("fr"):
        found = [message for _, message in messages(raw)]
    assert found == [
        "Le bloc « w » : rien n’est relié à la sortie OUI, le parcours s’arrête donc ici pour les"
        " contacts dont l’événement arrive à temps",
        "Le bloc « w » : rien n’est relié à la sortie NON, le parcours s’arrête donc ici pour les"
        " contacts dont l’événement n’arrive pas à temps",
        "Le bloc « lonely » : aucun bloc ne suit ce déclencheur, les contacts entrent et"
        " ressortent donc aussitôt",
    ]


SUMMARIES = [
    (node("s", "trigger", "event", event="purchase"), "Quand purchase se produit", "When purchase happens"),
    (node("s", "trigger", "list_added", list="vip"), "Quand un contact est ajouté à la liste « vip »",
     "When a contact is added to list 'vip'"),
    (node("s", "trigger", "date_anniversary", attribute="birthday", offset_days=-7, at="09:00"),
     "Chaque année, 7 jours avant birthday à 09:00", "Every year, 7 days before birthday at 09:00"),
    (node("s", "delay", "wait", seconds=172800), "Attendre 2 jours", "Wait 2 days"),
    (node("s", "delay", "wait"), "Attendre (aucune durée indiquée)", "Wait (no duration set)"),
    (node("s", "delay", "wait_until", at="09:00", weekdays=["mon", "fri"]),
     "Attendre jusqu’à 09:00 le lundi, vendredi", "Wait until 09:00 on Mon, Fri"),
    (node("s", "delay", "wait_for_event", event="purchase", timeout_seconds=86400),
     "Attendre purchase pendant 1 jour au plus", "Wait up to 1 day for purchase"),
    (node("s", "condition", "if", **{"if": {"attribute": "orders_count", "op": "eq", "value": 1}}),
     "Si orders count = 1", "If orders count = 1"),
    (node("s", "action", "send_email", message="welcome"), "Envoyer l’e-mail « welcome »",
     "Send email 'welcome'"),
    (node("s", "action", "send_sms"), "Envoyer le SMS (aucun SMS choisi)", "Send SMS (no SMS chosen)"),
    (node("s", "action", "add_score", points=-5), "Retirer 5 points du score",
     "Remove 5 points from the score"),
    (node("s", "action", "add_score", points=1), "Ajouter 1 point au score", "Add 1 point to the score"),
    (node("s", "action", "update_attribute", attribute="plan", value="pro"),
     "Mettre plan à « pro »", "Set plan to 'pro'"),
    (node("s", "action", "exit"), "Sortir du scénario", "Exit the scenario"),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "french", "english"), SUMMARIES)
def test_block_summaries_in_french_and_english(raw: Any, french: str, english: str) -> None:
    document, _ = parse_document(scenario([raw], []))
    assert document is not None
    [block] = document.nodes
    with speaking("fr"):
        assert block.summary() == french
    assert block.summary() == english


def test_conditions_are_described_in_french() -> None:
    condition = parse_condition(
        {
            "any": [
                {"attribute": "country", "op": "in", "value": ["FR", "BE", "CH"]},
                {"event": "purchase", "op": "count_gte", "value": 2, "within_days": 30},
                {"not": {"list": "vip", "op": "member"}},
                {"consent": "email", "op": "granted"},
            ]
        }
    )
    with speaking("fr"):
        assert describe_condition(condition) == (
            "country est l’une des valeurs « FR », « BE » ou « CH » ou purchase s’est produit"
            " au moins 2 fois au cours des 30 derniers jours ou non dans la liste « vip » ou"
            " consentement e-mail accordé"
        )
    assert describe_condition(condition) == (
        "country is one of 'FR', 'BE' or 'CH' or purchase happened at least 2 times in the last"
        " 30 days or not in list 'vip' or email consent granted"
    )


def test_the_wording_helpers_speak_french() -> None:
    with speaking("fr"):
        assert format_duration(172800) == "2 jours"
        assert format_duration(90061) == "1 jour 1 heure 1 minute 1 seconde"
        assert format_duration(1209600) == "2 semaines"
        assert plural(3, "day") == "3 jours"
        assert plural(0, "time") == "0 fois"
        assert quote(None) == "non renseigné"
        assert quote(True) == "vrai"
        assert quote("FR") == "« FR »"
        assert one_of(["FR", "BE"]) == "« FR » ou « BE »"
        assert (yes_no(True), yes_no(False)) == ("oui", "non")
    assert format_duration(172800) == "2 days"
    assert (quote(None), quote(True), quote("FR")) == ("not set", "true", "'FR'")
    assert one_of(["FR", "BE"]) == "'FR' or 'BE'"
    assert (yes_no(True), yes_no(False)) == ("yes", "no")


def test_condition_limits_and_document_structure_in_french() -> None:
    condition = parse_condition({"all": [{"attribute": "bad name!", "op": "exists"}]})
    with speaking("fr"):
        assert [str(p) for p in condition_limit_problems(condition)] == [
            "règle 1, attribut : les noms d’attribut ne peuvent contenir que des lettres, des"
            " chiffres, « _ », « - » et « . » (64 caractères au plus)"
        ]
        assert structure_problems({"nodes": "many"}) == ["« nodes » doit être une liste de blocs"]
    assert [str(p) for p in condition_limit_problems(condition)] == [
        "rule 1, attribute: attribute names may only use letters, digits, '_', '-' and '.'"
        " (up to 64 characters)"
    ]
    assert structure_problems({"nodes": "many"}) == ["'nodes' must be a list of blocks"]


def test_issue_codes_stay_english_whatever_the_language() -> None:
    with speaking("fr"):
        _, issues = check_draft(broken(), KNOWN)
    assert all(isinstance(issue, Issue) for issue in issues)
    assert [issue.code.value for issue in issues][:2] == ["missing_config", "unknown_list"]
