/// The page an admin gets after sharing a saved view: the link to copy, and how long it works.
enum SharedLinkPage {}
