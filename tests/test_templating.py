"""Plural messages in templates take named values besides the count."""

from __future__ import annotations

from assistant.i18n import use_locale
from assistant.templating import env


def test_ngettext_in_a_template_fills_every_named_value() -> None:
    template = env.from_string(
        '{{ ngettext("%(num)d reply from %(who)s", "%(num)d replies from %(who)s", n, who=who) }}'
    )
    with use_locale("en"):
        assert template.render(n=1, who="Mere") == "1 reply from Mere"
        assert template.render(n=3, who="Mere") == "3 replies from Mere"


def test_ngettext_in_a_template_still_translates() -> None:
    template = env.from_string('{{ ngettext("%(num)d new reply", "%(num)d new replies", 2) }}')
    with use_locale("mi"):
        assert template.render() == "2 whakautu hou"
