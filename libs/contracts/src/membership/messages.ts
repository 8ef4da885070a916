import { qrySubject } from '../subjects';

export const MembershipSubjects = {
  health: () => qrySubject('membership', 'health'),
};
