/// A page that only says something: an error (sign-in needed, not allowed, not found) or a notice.
enum MessagePage {}
