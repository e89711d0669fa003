"""The console: server-rendered pages over the core, mounted into the API process.

Kept free of imports so ``alerts.settings`` can read ``console.settings`` without FastAPI.
"""
