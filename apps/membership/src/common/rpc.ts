export { callService } from '@app/messaging';
