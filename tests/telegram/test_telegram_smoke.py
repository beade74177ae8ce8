import telegram_factories as tf
from conftest import RunningBot


async def test_smoke(bot: RunningBot) -> None:
    api = bot.api
    u = tf.user()
    chat = tf.private_chat(u)
    await api.send(chat, u, "企业开办要几天")
    [reply] = await api.wait_replies(chat["id"])
    print(reply.text, reply.bold, reply.button_texts)
