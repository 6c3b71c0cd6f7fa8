import Testing
import Wire
import KubeAPI
