"""What metrics stand on: model resolution and the CheXbert model (models), condition labelers, the
LLM client, the native RadGraph parser and random-weight stand-ins.
"""
