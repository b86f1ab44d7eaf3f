"""The publish gate: aggregate, protect, audit, write a draft bundle, approve, release."""
