from tests.conftest import Club


async def test_basic_club_and_refusals(club: Club) -> None:
    await club.basic_club()
    said = await club.ok("kai@lake.run", "/roster")
    assert "ava" in said.text and "ben" not in said.text
    await club.no("ava@lake.run", "/roster")
    said = await club.no("noor@lake.run", "/add-member x@lake.run plan:foo")
    assert "head coach" in said.text
