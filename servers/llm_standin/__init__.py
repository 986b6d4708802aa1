"""A deterministic LLM stand-in: a TEST DOUBLE for Ollama on machines without model weights.

It speaks the parts of the Ollama API and the OpenAI chat-completions API that Open WebUI uses, and
"decides" by the documented rules in decide.py: it calls the obvious tool and answers from the tool
results. It is selected explicitly (`local.substitutes` in config/environments/dev.yaml) and never
deployed by the stacks.
"""
