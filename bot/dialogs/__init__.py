"""Conversations, one module each; steps gather input and call one domain function."""
