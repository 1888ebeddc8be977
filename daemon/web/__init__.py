"""The web stage: OSCQuery's HTTP and WebSocket, and the page that watches and plays the daemon."""
