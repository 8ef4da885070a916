export const ACCESS_VIEW = Symbol('ACCESS_VIEW');
