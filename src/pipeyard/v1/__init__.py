"""KFP v1 (kfp 1.x SDK) support: its own cached SDK environment and the v1 compile step."""
