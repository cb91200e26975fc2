"""Where Iris keeps things: rows in a database (:mod:`.database`) and files in a blob store
(:mod:`.blobs`), each chosen from settings; repository functions per resource."""
