"""The error that sends a message straight to its dead-letter queue.

On its own, below everything that reads or decodes messages: the consumer loop
(app/infra/consumer.py) acts on it, and the lifecycle's decoders (app/jobs/lifecycle.py),
which the ports and services use, raise it without depending on the loop.
"""


class PoisonMessage(Exception):
    """A message no retry can help (bad JSON, unknown job): straight to the DLQ path."""
