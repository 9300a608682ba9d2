"""The Twilio carrier plugin, over the official ``twilio`` SDK with an httpx transport."""
