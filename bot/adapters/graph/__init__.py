"""Microsoft Graph: the directory sync's source and Teams app installation, with a local fake."""
