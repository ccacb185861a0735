"""The network: framing, the Noise channel, wire messages, sync sessions, discovery, the node."""
