from tests.support.activities import TeamsUser


async def test_first_message_gets_welcome_and_menu(bot):
    user = TeamsUser.new("Maija Meikäläinen")
    replies = await bot.say(user, "hei")
    assert replies, "bot said nothing"
    print(replies)
