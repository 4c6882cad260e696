"""One screen per view of the cluster; the app switches between them as modes."""
