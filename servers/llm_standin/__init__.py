"""A deterministic LLM stand-in: a TEST DOUBLE for Ollama on machines without model weights.

It speaks the parts of the Ollama API and the OpenAI chat-completions API that Open WebUI uses, in both of
Open WebUI's function-calling modes (native: OpenAI `tools` in, `tool_calls` out, `tool` messages back;
legacy: a JSON tool choice, results in the prompt), streamed or not. It decides by the documented rules in
decide.py: it calls the tools a message asks for, with every required argument, and answers from all the
results. It lists its models as "<model> (test double)". It is selected explicitly (`local.substitutes` in
config/environments/dev.yaml) and never deployed by the stacks.

Modules: tools (offered tools and their schemas), decide (the rules: which calls), answers (sentences from
results), legacy (Open WebUI's legacy prompts), replies (a conversation -> a reply), wire (Ollama/OpenAI
formats), app (HTTP).
"""
