/// The learner drill-down of one course: who enrolled in the period, when they completed, how long
/// it took. For tenant admins only (the report says so, and the runner enforces it).
enum CourseEnrollments {}
