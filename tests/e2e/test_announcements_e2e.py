"""ICT writes an announcement to a unit in the Agents Playground, it reaches the unit, and the
report card shows it delivered."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


async def test_an_announcement_to_a_unit_arrives_and_is_reported(chat, demo_stack):
    # Maija, who chats in the Playground, is an ICT admin and works in Sivistystoimiala.
    await chat.wait_for_bot_text("Mitä haluat tehdä?")
    await chat.send("tiedote")
    form = await chat.wait_for_card("Uusi tiedote")
    await form.get_by_label("Otsikko suomeksi").fill("Puhelinten jakelu alkaa")
    await form.get_by_label("Teksti suomeksi").fill("Jakelu alkaa **maanantaina**.")
    await form.get_by_role("combobox", name="Yksiköt").click()  # a drop-down of several choices
    await chat.page.get_by_role("menuitemcheckbox", name="Sivistystoimiala").click()
    await chat.page.keyboard.press("Escape")
    await form.get_by_role("button", name="Esikatsele").click()
    await chat.wait_for_bot_text("Vastaanottajia: 2")  # Maija and Sari
    await chat.press("Lähetä")
    report = await chat.wait_for_card("se lähtee 2 vastaanottajalle")  # Maija and Sari
    assert "Toimitettu 0/2" in await report.inner_text()

    await demo_stack.components.jobs.dispatcher.run_until_idle()
    await chat.page.wait_for_function(
        """() => Array.from(document.querySelectorAll('.ac-adaptiveCard'))
            .filter(card => card.innerText.includes('Puhelinten jakelu alkaa')).length >= 3""",
        timeout=20_000,
    )  # the preview, the report, then the announcement itself

    # The report refreshes in place (Action.Execute). Sari has never opened the bot, and this
    # stack has no tenant to open a chat with her.
    await report.get_by_role("button", name="Päivitä").click()
    await chat.wait_for_card("Toimitettu 1/2")
    await chat.wait_for_card("tenanttia ei ole asetettu 1")
