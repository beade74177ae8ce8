"""WeChat Official Account adapter: signed (and in safe mode encrypted) XML webhooks answered by the service."""
