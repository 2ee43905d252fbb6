"""The words every floor of the app shares: who is chatting, what a reply is made of (events, widgets,
passages, tool calls) and how those travel as JSON. This package imports nothing else of the app, so any
module may import it."""
