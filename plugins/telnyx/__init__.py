"""The Telnyx carrier plugin, over the official ``telnyx`` SDK, with static coverage data."""
