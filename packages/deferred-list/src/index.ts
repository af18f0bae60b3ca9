export { DeferredList } from './deferred-list.js';
export { DeferredListApplyError, DeferredListError, DeferredListUnderflowError } from './errors.js';
