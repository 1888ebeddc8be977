"""Control: the state the performer moves and its vocabulary, and every surface that moves it
(OSC in, MIDI, OSCQuery) or reads it back (OSC out, OSC maps)."""
