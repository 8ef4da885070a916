import { qrySubject } from '../subjects';

export const AuthorizationSubjects = {
  health: () => qrySubject('authorization', 'health'),
};
