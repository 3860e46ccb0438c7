export { createStudyScheduler, studyJobHandler, type StudyScheduler, type StudySchedulerDeps } from './study-scheduler.js';
