export { DeferredList } from './deferred-list.js';
export { DeferredListApplyError, DeferredListUnderflowError } from './errors.js';
